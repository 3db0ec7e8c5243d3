package controlplane

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// module is the Go module that builds the binaries. Its go.mod and go.sum are stored
// as go.mod.txt and go.sum.txt: a directory holding a file named go.mod is a module
// of its own, which neither embed nor gitopskit's module zip would include.
//
//go:embed all:_module
var module embed.FS

const moduleRoot = "_module"

// renamed maps embedded names to the names they are written out as.
var renamed = map[string]string{"go.mod.txt": "go.mod", "go.sum.txt": "go.sum"}

// Versions are the versions of the components the embedded module builds.
type Versions struct {
	Kubernetes string // k8s.io/kubernetes, for example v1.37.2
	Etcd       string // go.etcd.io/etcd/server/v3
	Kwok       string // sigs.k8s.io/kwok
}

// ModuleVersions reads the versions the embedded module requires.
func ModuleVersions() (Versions, error) {
	data, err := module.ReadFile(moduleRoot + "/go.mod.txt")
	if err != nil {
		return Versions{}, err
	}
	var v Versions
	for _, want := range []struct {
		path string
		into *string
	}{
		{"k8s.io/kubernetes", &v.Kubernetes},
		{"go.etcd.io/etcd/server/v3", &v.Etcd},
		{"sigs.k8s.io/kwok", &v.Kwok},
	} {
		*want.into = required(data, want.path)
		if *want.into == "" {
			return Versions{}, fmt.Errorf("%s/go.mod.txt does not require %s", moduleRoot, want.path)
		}
	}
	return v, nil
}

// required returns the version go.mod data requires of the module path, or "".
// The go command writes requirements as "path version" lines, alone inside a
// require block or after "require".
func required(gomod []byte, modPath string) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(f) >= 2 && f[0] == modPath {
			return f[1]
		}
	}
	return ""
}

// Key returns the name of the directory a build of the embedded module goes into:
// kube-<version>_etcd-<version>_kwok-<version>_<hash>. The hash covers every file of
// the module and the build recipe, so a changed builder never reuses stale binaries.
func Key() (string, error) {
	v, err := ModuleVersions()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "recipe %d\nldflags %s\nstages %q\n", recipe, ldflags(v.Kubernetes), kwokStages)
	err = walkModule(func(name string, data []byte) error {
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))[:12]
	return fmt.Sprintf("kube-%s_etcd-%s_kwok-%s_%s", v.Kubernetes, v.Etcd, v.Kwok, sum), nil
}

// WriteModule writes the module that builds the binaries into dir, which is created
// if needed.
func WriteModule(dir string) error {
	return walkModule(func(name string, data []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	})
}

// walkModule calls fn with the slash-separated name (as written out) and the content
// of each file of the module, in lexical order.
func walkModule(fn func(name string, data []byte) error) error {
	return fs.WalkDir(module, moduleRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := module.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, moduleRoot+"/")
		if to, ok := renamed[path.Base(name)]; ok && path.Dir(name) == "." {
			name = to
		}
		return fn(name, data)
	})
}
