package isolate

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"reflect"
	"strconv"
	"testing/fstest"
	"time"
	"unsafe"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/source"
)

// request is what the parent sends the child on its standard input, as one JSON
// line, followed by a tar stream of the files when Root is empty.
type request struct {
	Spec    Spec           `json:"spec"`
	Options render.Options `json:"options"`
	Dir     string         `json:"dir"`
	// Root is the artifact's directory on disk, and RootKind says how to open it
	// so that the child confines reads as the parent's fs.FS does.
	Root     string `json:"root,omitempty"`
	RootKind string `json:"rootKind,omitempty"`
	// Memory and CPU are the limits the child sets on itself before rendering.
	Memory int64         `json:"memory"`
	CPU    time.Duration `json:"cpu"`
	// Input bounds the tar stream.
	Input int64 `json:"input"`
}

// How the child opens Root.
const (
	rootSource = "source" // source.DirFS
	rootOS     = "os"     // os.OpenRoot(...).FS()
	rootDirFS  = "dirfs"  // os.DirFS, which does not confine links
)

// response is what the child writes on its standard output after the handshake
// line: a result or an error.
type response struct {
	Manifests []wireManifest `json:"manifests,omitempty"`
	Warnings  []string       `json:"warnings,omitempty"`
	Renderer  string         `json:"renderer,omitempty"`
	Error     *wireError     `json:"error,omitempty"`
}

type wireManifest struct {
	Object json.RawMessage `json:"object"`
	Origin object.Origin   `json:"origin"`
}

// diskRoot returns the directory on disk fsys reads and how to open it again, or
// "" when fsys is not one of the file systems of a directory the child can open
// itself (source.DirFS, (*os.Root).FS, os.DirFS).
func diskRoot(fsys fs.FS) (dir, kind string) {
	t := reflect.TypeOf(fsys)
	if t == nil {
		return "", ""
	}
	switch {
	case t == reflect.TypeOf(source.DirFS("")):
		return reflect.ValueOf(fsys).String(), rootSource
	case t == reflect.TypeOf(os.DirFS("")):
		return reflect.ValueOf(fsys).String(), rootDirFS
	case t == rootFSType:
		// (*os.Root).FS returns the root itself under another type
		// (`type rootFS Root` in package os), which gives no other way to its name.
		root := (*os.Root)(unsafe.Pointer(reflect.ValueOf(fsys).Pointer()))
		return root.Name(), rootOS
	}
	return "", ""
}

var rootFSType = func() reflect.Type {
	r, err := os.OpenRoot(os.TempDir())
	if err != nil {
		return nil
	}
	defer r.Close()
	return reflect.TypeOf(r.FS())
}()

// openRoot opens the artifact a request names, in the child.
func openRoot(req *request) (fs.FS, error) {
	switch req.RootKind {
	case rootSource:
		return source.DirFS(req.Root), nil
	case rootDirFS:
		return os.DirFS(req.Root), nil
	case rootOS:
		r, err := os.OpenRoot(req.Root)
		if err != nil {
			return nil, err
		}
		return r.FS(), nil
	}
	return nil, fmt.Errorf("unknown root kind %q", req.RootKind)
}

// writeTar streams the regular files, directories and links of fsys to w, at most
// limit bytes of file content.
func writeTar(w io.Writer, fsys fs.FS, limit int64) error {
	tw := tar.NewWriter(w)
	var total int64
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == "." {
			return nil
		}
		switch {
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755})
		case d.Type()&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, name)
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777})
		case !d.Type().IsRegular():
			return nil
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		if total += int64(len(b)); total > limit {
			return &LimitError{Limit: LimitInput, Value: fmt.Sprintf("%d bytes", limit), Detail: name}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(b)), Mode: 0o644}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// readTar reads the files writeTar wrote into memory, at most limit bytes.
func readTar(r io.Reader, limit int64) (fs.FS, error) {
	fsys := fstest.MapFS{}
	tr := tar.NewReader(r)
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fsys, nil
		}
		if err != nil {
			return nil, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			fsys[trimSlash(h.Name)] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
		case tar.TypeSymlink:
			fsys[h.Name] = &fstest.MapFile{Mode: fs.ModeSymlink | 0o777, Data: []byte(h.Linkname)}
		case tar.TypeReg:
			if total += h.Size; total > limit {
				return nil, fmt.Errorf("%s: input over %d bytes", h.Name, limit)
			}
			b, err := io.ReadAll(io.LimitReader(tr, h.Size))
			if err != nil {
				return nil, err
			}
			fsys[h.Name] = &fstest.MapFile{Data: b, Mode: 0o644}
		}
	}
}

func trimSlash(s string) string {
	if len(s) > 1 && s[len(s)-1] == '/' {
		return s[:len(s)-1]
	}
	return s
}

// encodeResult turns res into a response, encoding the objects on all
// processors. Floats are marked as such (markFloats), so that the parent decodes
// every number to the type the child had: int64 or float64.
func encodeResult(res *render.Result) (*response, error) {
	out := &response{Warnings: res.Warnings, Renderer: res.Renderer, Manifests: make([]wireManifest, len(res.Manifests))}
	errs := make([]error, len(res.Manifests))
	parallel.Split(len(res.Manifests), 64, func(i int) {
		m := res.Manifests[i]
		b, err := json.Marshal(markFloats(m.Object.Object))
		if err != nil {
			errs[i] = fmt.Errorf("%s: %w", m.Origin, err)
			return
		}
		out.Manifests[i] = wireManifest{Object: b, Origin: m.Origin}
	})
	return out, errors.Join(errs...)
}

// markFloats replaces, in place, each float64 of v by a json.Number that reads
// back as a float (1 becomes 1.0), as k8s.io/apimachinery/pkg/util/json decodes
// numbers with a fraction or exponent to float64 and the others to int64.
func markFloats(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = markFloats(e)
		}
	case []any:
		for i, e := range v {
			v[i] = markFloats(e)
		}
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return v // json.Marshal refuses it, as in the parent's own encoders
		}
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			s += ".0"
		}
		return json.Number(s)
	}
	return v
}

// decodeResult turns a response into a result, decoding the objects on all
// processors.
func decodeResult(resp *response) (*render.Result, error) {
	res := &render.Result{Warnings: resp.Warnings, Renderer: resp.Renderer, Manifests: make([]object.Manifest, len(resp.Manifests))}
	errs := make([]error, len(resp.Manifests))
	parallel.Split(len(resp.Manifests), 64, func(i int) {
		m := resp.Manifests[i]
		obj := map[string]any{}
		if err := utiljson.Unmarshal(m.Object, &obj); err != nil {
			errs[i] = fmt.Errorf("%s: %w", m.Origin, err)
			return
		}
		res.Manifests[i] = object.Manifest{Object: &unstructured.Unstructured{Object: obj}, Origin: m.Origin}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return res, nil
}
