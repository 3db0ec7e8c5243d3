package source_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gitopskit/gitopskit/source"
)

func ExampleLocal() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("kind: ConfigMap\n"), 0o644)

	var src source.Source = source.Local{Dir: dir}
	a, err := src.Fetch(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := fs.ReadFile(a.FS, "app.yaml")
	fmt.Print(string(b))
	fmt.Println(a.Revision == a.Digest)

	// A link leaving the directory makes the source refuse it.
	_ = os.Symlink("/etc/passwd", filepath.Join(dir, "passwd"))
	_, err = src.Fetch(context.Background())
	fmt.Println(err != nil)
	// Output:
	// kind: ConfigMap
	// true
	// true
}

func ExampleIgnore() {
	var ig source.Ignore
	_ = ig.Add("", source.IgnoreFile, "*.md\n!README.md\n/tests/\n")
	for _, p := range []string{"CHANGES.md", "README.md", "tests/e2e.yaml", "deploy/app.yaml"} {
		fmt.Println(p, ig.Match(p, false))
	}
	// Output:
	// CHANGES.md true
	// README.md false
	// tests/e2e.yaml true
	// deploy/app.yaml false
}

func ExampleParseRevision() {
	r, err := source.ParseRevision("main@sha1:8f4bd0b1e1aa0bd9d6e1ad0b4b1b6a3c7a07c6a1")
	fmt.Println(r.Ref, r.Algorithm, r.Hash[:7], err)
	// Output: main sha1 8f4bd0b <nil>
}
