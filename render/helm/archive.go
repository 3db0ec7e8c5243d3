package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/gitopskit/gitopskit/render"
)

// readArchive unpacks a chart archive (a gzipped tar whose entries all sit in one
// top directory, the chart's) into memory, with the top directory stripped. name
// is the archive's name for errors. It refuses entries that would leave the chart
// (absolute paths, ".." elements) and links of any kind, with errors wrapping
// render.ErrOutsideRoot, and stops at maxBytes unpacked with render.ErrLimit.
func readArchive(data []byte, name string, maxBytes int64) ([]File, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("chart archive %s: %w", name, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var (
		files []File
		top   string
		total int64
		seen  = map[string]bool{}
	)
	for {
		hd, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("chart archive %s: %w", name, err)
		}
		entry := strings.ReplaceAll(hd.Name, `\`, "/")
		switch hd.Typeflag {
		case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeDir:
			continue
		case tar.TypeReg:
		case tar.TypeSymlink, tar.TypeLink:
			return nil, fmt.Errorf("chart archive %s: entry %q: %w: links are not allowed in a chart archive", name, hd.Name, render.ErrOutsideRoot)
		default:
			return nil, fmt.Errorf("chart archive %s: entry %q: not a regular file", name, hd.Name)
		}
		if path.IsAbs(entry) || hasDotDot(entry) || hasDrive(entry) {
			return nil, fmt.Errorf("chart archive %s: entry %q: %w", name, hd.Name, render.ErrOutsideRoot)
		}
		dir, rel, ok := strings.Cut(path.Clean(entry), "/")
		if !ok || rel == "" {
			return nil, fmt.Errorf("chart archive %s: entry %q is not in the chart's directory", name, hd.Name)
		}
		if top == "" {
			top = dir
		} else if dir != top {
			return nil, fmt.Errorf("chart archive %s: entry %q is outside the chart's directory %q", name, hd.Name, top)
		}
		if seen[rel] {
			return nil, fmt.Errorf("chart archive %s: entry %q appears twice", name, hd.Name)
		}
		seen[rel] = true
		if total += hd.Size; hd.Size < 0 || total > maxBytes {
			return nil, fmt.Errorf("chart archive %s: %w: unpacked chart larger than %d bytes", name, render.ErrLimit, maxBytes)
		}
		content, err := io.ReadAll(io.LimitReader(tr, hd.Size))
		if err != nil {
			return nil, fmt.Errorf("chart archive %s: entry %q: %w", name, hd.Name, err)
		}
		files = append(files, File{Name: rel, Data: bytes.TrimPrefix(content, []byte("\xEF\xBB\xBF"))})
	}
	if !seen["Chart.yaml"] {
		return nil, fmt.Errorf("chart archive %s: no Chart.yaml in the chart's directory", name)
	}
	return files, nil
}

func hasDotDot(p string) bool {
	for _, e := range strings.Split(p, "/") {
		if e == ".." {
			return true
		}
	}
	return false
}

// hasDrive tells whether p starts with a Windows drive letter ("c:").
func hasDrive(p string) bool {
	return len(p) >= 2 && p[1] == ':' && ('a' <= p[0] && p[0] <= 'z' || 'A' <= p[0] && p[0] <= 'Z')
}
