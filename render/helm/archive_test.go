package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/render"
)

type entry struct {
	name, body string
	typ        byte
}

func tgz(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hd := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ}
		switch e.typ {
		case tar.TypeReg:
			hd.Size = int64(len(e.body))
		case tar.TypeSymlink, tar.TypeLink:
			hd.Linkname = e.body
		}
		if err := tw.WriteHeader(hd); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func file(name, body string) entry { return entry{name: name, body: body, typ: tar.TypeReg} }

const chartYAML = "apiVersion: v2\nname: c\nversion: 1.0.0\n"

func TestReadArchive(t *testing.T) {
	files, err := readArchive(tgz(t, entry{name: "c/", typ: tar.TypeDir}, file("c/Chart.yaml", chartYAML), file("c/templates/a.yaml", "a: 1\n")), "c.tgz", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Name != "Chart.yaml" || files[1].Name != "templates/a.yaml" {
		t.Errorf("files = %+v", files)
	}
	for _, tc := range []struct {
		name     string
		entries  []entry
		sentinel error
		contains string
	}{
		{"parent directory", []entry{file("c/Chart.yaml", chartYAML), file("c/../x.yaml", "")}, render.ErrOutsideRoot, "c/../x.yaml"},
		{"parent directory, backslashes", []entry{file("c/Chart.yaml", chartYAML), file(`c\..\..\x.yaml`, "")}, render.ErrOutsideRoot, `x.yaml`},
		{"absolute path", []entry{file("/etc/passwd", "")}, render.ErrOutsideRoot, "/etc/passwd"},
		{"drive letter", []entry{file("c:/x.yaml", "")}, render.ErrOutsideRoot, "c:/x.yaml"},
		{"symlink", []entry{file("c/Chart.yaml", chartYAML), {name: "c/templates/l.yaml", body: "/etc/passwd", typ: tar.TypeSymlink}}, render.ErrOutsideRoot, "l.yaml"},
		{"hard link", []entry{file("c/Chart.yaml", chartYAML), {name: "c/templates/l.yaml", body: "c/Chart.yaml", typ: tar.TypeLink}}, render.ErrOutsideRoot, "l.yaml"},
		{"device", []entry{file("c/Chart.yaml", chartYAML), {name: "c/dev", typ: tar.TypeChar}}, nil, "not a regular file"},
		{"two top directories", []entry{file("c/Chart.yaml", chartYAML), file("d/x.yaml", "")}, nil, "outside the chart's directory"},
		{"file at the top", []entry{file("Chart.yaml", chartYAML)}, nil, "not in the chart's directory"},
		{"twice the same file", []entry{file("c/Chart.yaml", chartYAML), file("c/./Chart.yaml", chartYAML)}, nil, "appears twice"},
		{"no Chart.yaml", []entry{file("c/values.yaml", "")}, nil, "no Chart.yaml"},
		{"too large unpacked", []entry{file("c/Chart.yaml", chartYAML), file("c/big", strings.Repeat("x", 2000))}, render.ErrLimit, "1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readArchive(tgz(t, tc.entries...), "c.tgz", 1024)
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.contains)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v is not %v", err, tc.sentinel)
			}
			if !strings.Contains(err.Error(), tc.contains) || !strings.Contains(err.Error(), "c.tgz") {
				t.Errorf("error %q does not name c.tgz and %q", err, tc.contains)
			}
		})
	}
	if _, err := readArchive([]byte("not gzip"), "c.tgz", 1024); err == nil || !strings.Contains(err.Error(), "c.tgz") {
		t.Errorf("not an archive: error %v", err)
	}
}

// FuzzReadArchive checks that no archive makes readArchive panic or return a
// file outside the chart or beyond the limit.
func FuzzReadArchive(f *testing.F) {
	f.Add(tgz(f, file("c/Chart.yaml", chartYAML), file("c/templates/a.yaml", "a: 1\n")))
	f.Add(tgz(f, file("c/Chart.yaml", chartYAML), file("c/../x", "")))
	f.Add(tgz(f, file("c/Chart.yaml", chartYAML), entry{name: "c/l", body: "/etc", typ: tar.TypeSymlink}))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := readArchive(data, "fuzz.tgz", 4096)
		if err != nil {
			return
		}
		var total int
		for _, file := range files {
			total += len(file.Data)
			if strings.HasPrefix(file.Name, "/") || hasDotDot(file.Name) || strings.Contains(file.Name, `\`) {
				t.Errorf("file %q leaves the chart", file.Name)
			}
		}
		if total > 4096 {
			t.Errorf("%d bytes unpacked, limit 4096", total)
		}
	})
}
