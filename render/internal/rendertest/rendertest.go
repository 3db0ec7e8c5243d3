// Package rendertest holds what the renderers' tests share: comparing their objects
// with what the kustomize and helm programs print for the same input, and checking
// errors.
package rendertest

import (
	"bytes"
	"errors"
	"io"
	"log"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/object"
)

// CLI runs the program name (which must be on PATH, see testtool.Require) with
// args in dir and decodes the objects it prints.
func CLI(t testing.TB, dir, name string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	bin := testtool.Require(t, name)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	// Program output, read as Helm and kubectl read it (duplicate keys, unquoted
	// label values).
	ms, err := object.Decoder{Lenient: true}.Decode(bytes.NewReader(out), name+" output")
	if err != nil {
		t.Fatalf("decode %s output: %v", name, err)
	}
	return object.Objects(ms)
}

// Equal fails t unless got holds the same objects as want, in the same order.
func Equal(t testing.TB, want, got []*unstructured.Unstructured) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("got %d objects, want %d:\ngot:  %v\nwant: %v", len(got), len(want), ids(got), ids(want))
		return
	}
	for i := range want {
		if !reflect.DeepEqual(want[i].Object, got[i].Object) {
			w, _ := yaml.Marshal(want[i].Object)
			g, _ := yaml.Marshal(got[i].Object)
			t.Errorf("object %d (%s) differs:\n--- CLI\n%s--- renderer\n%s", i, object.IDOf(want[i]), w, g)
		}
	}
}

func ids(objs []*unstructured.Unstructured) []string {
	out := make([]string, len(objs))
	for i, u := range objs {
		out[i] = object.IDOf(u).String()
	}
	return out
}

// WantError fails t unless err is an error wrapping sentinel (when not nil) whose
// message contains contains.
func WantError(t testing.TB, err, sentinel error, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", contains)
	}
	t.Log(err)
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %v is not %v", err, sentinel)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Errorf("error %q does not contain %q", err, contains)
	}
}

// Printed runs fn and returns what was written meanwhile to os.Stderr and with the
// standard logger, which a library must not write to.
func Printed(t testing.TB, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var (
		stderr bytes.Buffer
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		_, _ = io.Copy(&stderr, r)
	}()
	prevStderr, prevLog := os.Stderr, log.Writer()
	var logged bytes.Buffer
	os.Stderr = w
	log.SetOutput(&logged)
	func() {
		defer func() {
			os.Stderr = prevStderr
			log.SetOutput(prevLog)
			w.Close()
			<-done
			r.Close()
		}()
		fn()
	}()
	return stderr.String() + logged.String()
}
