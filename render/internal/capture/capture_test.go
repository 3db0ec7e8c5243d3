package capture

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestLogKeepsToItsGoroutine: lines of the goroutine that captures are its own,
// with the logger's date and prefix removed; lines other goroutines print at the
// same time go where they went before; the logger's writer is put back.
func TestLogKeepsToItsGoroutine(t *testing.T) {
	var before bytes.Buffer
	prev, flags, prefix := log.Writer(), log.Flags(), log.Prefix()
	log.SetOutput(&before)
	log.SetFlags(log.LstdFlags | log.Lmicroseconds | log.Lshortfile)
	log.SetPrefix("app: ")
	t.Cleanup(func() { log.SetOutput(prev); log.SetFlags(flags); log.SetPrefix(prefix) })

	var wg sync.WaitGroup
	results := make([][]string, 4)
	for i := range results {
		wg.Go(func() {
			results[i] = Log(func() {
				for j := range 50 {
					log.Printf("render %d line %d", i, j)
				}
			})
		})
	}
	wg.Go(func() {
		for j := range 50 {
			log.Printf("other line %d", j)
		}
	})
	wg.Wait()

	for i, lines := range results {
		want := make([]string, 50)
		for j := range want {
			want[j] = fmt.Sprintf("render %d line %d", i, j)
		}
		if !slices.Equal(lines, want) {
			t.Errorf("render %d captured %q", i, lines)
		}
	}
	if n := strings.Count(before.String(), "app: "); n != 50 || strings.Contains(before.String(), "render") {
		t.Errorf("the previous writer got %d lines of other goroutines, want 50, and no render's:\n%s", n, before.String())
	}
	if log.Writer() != &before {
		t.Error("the logger's writer was not put back")
	}
}

func TestStderr(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	prev := os.Stderr
	os.Stderr = w
	t.Cleanup(func() { os.Stderr = prev })

	c := NewStderr(func(line string) bool { return strings.HasPrefix(line, "# Warning") })
	if got := c.Stop(); got != nil {
		t.Errorf("Stop before Start = %q", got)
	}
	c.Start()
	c.Start()
	fmt.Fprintln(os.Stderr, "# Warning: mine")
	fmt.Fprintln(os.Stderr, "someone else's")
	got := c.Stop()
	if os.Stderr != w {
		t.Fatal("os.Stderr was not put back")
	}
	w.Close()
	var rest bytes.Buffer
	_, _ = rest.ReadFrom(r)
	if !slices.Equal(got, []string{"# Warning: mine"}) || rest.String() != "someone else's\n" {
		t.Errorf("kept %q, passed on %q", got, rest.String())
	}
}
