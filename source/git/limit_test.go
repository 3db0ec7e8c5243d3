//go:build linux

package git

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// helperEnv carries the Options of one fetch to TestFetchHelperProcess, run as a
// child process so that its peak memory can be measured alone.
const helperEnv = "GITOPSKIT_TEST_FETCH_OPTIONS"

type helperResult struct {
	Error     string
	SizeLimit bool
}

// TestFetchHelperProcess is not a test: it is the child process of
// fetchInChild, and does nothing unless helperEnv is set.
func TestFetchHelperProcess(t *testing.T) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		return
	}
	var opts Options
	if err := json.Unmarshal([]byte(raw), &opts); err != nil {
		t.Fatal(err)
	}
	var res helperResult
	if r, err := New(opts); err != nil {
		res.Error = err.Error()
	} else if _, err := r.Fetch(context.Background()); err != nil {
		res.Error, res.SizeLimit = err.Error(), errors.Is(err, ErrSizeLimit)
	}
	out, _ := json.Marshal(res)
	fmt.Printf("\nresult: %s\n", out)
}

// fetchInChild runs one Fetch in a child process and returns its outcome and the
// child's peak resident set size in bytes.
func fetchInChild(t *testing.T, opts Options) (helperResult, int64) {
	t.Helper()
	raw, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFetchHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(raw))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	_, line, ok := strings.Cut(stdout.String(), "\nresult: ")
	var res helperResult
	if !ok || json.Unmarshal([]byte(strings.SplitN(line, "\n", 2)[0]), &res) != nil {
		t.Fatalf("helper printed no result:\n%s", stdout.String())
	}
	return res, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
}

// TestFetchSizeLimitBoundsMemory fetches a commit holding a blob five times
// MaxSize (zeros: a small transfer that inflates to a large object) in every way
// a pack reaches the cache: a first fetch for each checkout mode (the pack
// written to disk), an incremental one (a thin pack, parsed in memory), and a
// commit fetched through go-git's remote. Each is refused with ErrSizeLimit
// naming the object's size while the pack is received, and the fetching process
// never holds twice MaxSize (unless the race detector, whose shadow memory
// inflates it, is on). A blob just under MaxSize is fetched and written out
// within the same bound.
func TestFetchSizeLimitBoundsMemory(t *testing.T) {
	const limit, size = 32 << 20, 160 << 20
	r := gittest.NewRepo(t, "", "repo.git")
	r.Commit("small", map[string]string{"app.yaml": "a: 1\n"})
	r.Git("branch", "small")
	r.Git("checkout", "-q", "-b", "fits")
	r.CommitZeros("fits", "zeros.bin", limit-1<<20)
	r.Git("checkout", "-q", "main")
	big := r.CommitZeros("big", "zeros.bin", size)
	r.Publish()
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	url := srv.URL + "/repo.git"
	incremental := t.TempDir()
	mustFetch(t, Options{URL: url, Ref: Ref{Branch: "small"}, CacheDir: incremental})
	for _, tc := range []struct {
		name string
		opts Options
		fits bool
	}{
		{"directory", Options{URL: url}, false},
		{"lazy", Options{URL: url, Checkout: CheckoutLazy}, false},
		{"incremental thin pack", Options{URL: url, CacheDir: incremental}, false},
		{"commit through go-git's remote", Options{URL: url, Ref: Ref{Commit: big}}, false},
		{"directory under the limit", Options{URL: url, Ref: Ref{Branch: "fits"}}, true},
		{"lazy under the limit", Options{URL: url, Ref: Ref{Branch: "fits"}, Checkout: CheckoutLazy}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.MaxSize = limit
			if opts.CacheDir == "" {
				opts.CacheDir = t.TempDir()
			}
			res, rss := fetchInChild(t, opts)
			t.Logf("peak RSS %d MiB; error: %s", rss>>20, res.Error)
			switch {
			case tc.fits && res.Error != "":
				t.Errorf("a blob under MaxSize: %s", res.Error)
			case !tc.fits && (!res.SizeLimit || !strings.Contains(res.Error, fmt.Sprint(size))):
				t.Errorf("error %q: want ErrSizeLimit naming the object's %d bytes", res.Error, size)
			}
			if rss >= 2*limit && !raceEnabled {
				t.Errorf("peak RSS %d MiB, want under %d MiB (twice MaxSize)", rss>>20, 2*limit>>20)
			}
			left, _ := filepath.Glob(filepath.Join(opts.CacheDir, "*", "repo", "objects", "pack", "tmp_*"))
			if len(left) > 0 {
				t.Errorf("the refused pack stays in the cache: %v", left)
			}
		})
	}
}
