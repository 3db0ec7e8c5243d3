package helm_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
)

// versions are published in every test repository; "^1.0.0" picks 1.2.0.
var versions = []string{"1.0.0", "1.2.0", "1.3.0-rc.1", "2.0.0"}

func webCharts() []*chart.Chart {
	var out []*chart.Chart
	for _, v := range versions {
		out = append(out, testChart("web", v))
	}
	return out
}

func renderRemote(t *testing.T, r render.Renderer, ref render.HelmChart) (*render.Result, error) {
	t.Helper()
	return r.Render(context.Background(), render.Input{}, render.Options{Helm: render.HelmOptions{
		ReleaseName: "shop", Namespace: "prod", Chart: &ref,
	}})
}

// renderedVersion returns the chart version the ConfigMap of res records.
func renderedVersion(t *testing.T, res *render.Result) string {
	t.Helper()
	if len(res.Manifests) != 1 {
		t.Fatalf("got %d objects, want 1", len(res.Manifests))
	}
	v, _, _ := unstructured.NestedString(res.Manifests[0].Object.Object, "data", "version")
	return v
}

// logSink records every log line, to check that no credential reaches a log.
type logSink struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *logSink) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.buf.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: 9})
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func TestRemoteHTTPRepository(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tls        bool
		user, pass string
	}{
		{name: "anonymous"},
		{name: "basic auth", user: "ci", pass: "repo-pass-1"},
		{name: "TLS with a custom CA and basic auth", tls: true, user: "ci", pass: "repo-pass-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := newChartRepo(t, tc.tls, tc.user, tc.pass)
			repo.add(t, webCharts()...)
			host := strings.TrimPrefix(strings.TrimPrefix(repo.URL, "https://"), "http://")
			opts := helm.RemoteOptions{CABundle: repo.ca}
			if tc.user != "" {
				opts.Credentials = map[string]helm.Credentials{host: {Username: tc.user, Password: tc.pass}}
			}
			var logs logSink
			r := helm.New(helm.Options{Remote: &opts, Logger: logs.logger()})
			res, err := renderRemote(t, r, render.HelmChart{Repository: repo.URL, Name: "web", Version: "^1.0.0"})
			if err != nil {
				t.Fatal(err)
			}
			if got := renderedVersion(t, res); got != "1.2.0" {
				t.Errorf("^1.0.0 rendered version %s, want 1.2.0", got)
			}
			if res.Manifests[0].Origin.File != "web/templates/cm.yaml" {
				t.Errorf("origin = %v", res.Manifests[0].Origin)
			}
			if tc.pass != "" && strings.Contains(logs.String(), tc.pass) {
				t.Errorf("password in the logs:\n%s", logs.String())
			}

			helmHome(t)
			args := []string{"template", "shop", "web", "-n", "prod", "--repo", repo.URL, "--version", "^1.0.0"}
			if tc.user != "" {
				args = append(args, "--username", tc.user, "--password", tc.pass)
			}
			if tc.tls {
				ca := filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(ca, repo.ca, 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--ca-file", ca)
			}
			rendertest.Equal(t, rendertest.CLI(t, t.TempDir(), "helm", args...), object.Objects(res.Manifests))
		})
	}
}

func TestRemoteOCIRegistry(t *testing.T) {
	for _, tc := range []struct {
		name       string
		user, pass string
	}{
		{name: "anonymous"},
		{name: "basic auth", user: "ci", pass: "registry-pass-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newOCIRegistry(t, tc.user, tc.pass)
			reg.push(t, webCharts()...)
			opts := helm.RemoteOptions{PlainHTTP: true}
			if tc.user != "" {
				opts.Credentials = map[string]helm.Credentials{reg.host: {Username: tc.user, Password: tc.pass}}
			}
			var logs logSink
			r := helm.New(helm.Options{Remote: &opts, Logger: logs.logger()})
			for _, c := range []struct{ version, want string }{{"^1.0.0", "1.2.0"}, {"1.0.0", "1.0.0"}, {"", "2.0.0"}} {
				res, err := renderRemote(t, r, render.HelmChart{Repository: reg.repository(), Name: "web", Version: c.version})
				if err != nil {
					t.Fatal(err)
				}
				if got := renderedVersion(t, res); got != c.want {
					t.Errorf("version %q rendered %s, want %s", c.version, got, c.want)
				}
			}
			if tc.pass != "" && strings.Contains(logs.String(), tc.pass) {
				t.Errorf("password in the logs:\n%s", logs.String())
			}

			res, err := renderRemote(t, r, render.HelmChart{Repository: reg.repository(), Name: "web", Version: "^1.0.0"})
			if err != nil {
				t.Fatal(err)
			}
			helmHome(t)
			args := []string{"template", "shop", reg.repository() + "/web", "-n", "prod", "--version", "^1.0.0", "--plain-http"}
			if tc.user != "" {
				args = append(args, "--username", tc.user, "--password", tc.pass)
			}
			rendertest.Equal(t, rendertest.CLI(t, t.TempDir(), "helm", args...), object.Objects(res.Manifests))
		})
	}
}

// archive returns a gzipped tar of entries; a value starting with "->" makes a
// symlink to the rest.
func archive(t *testing.T, entries [][2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hd := &tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg}
		if target, ok := strings.CutPrefix(e[1], "->"); ok {
			hd = &tar.Header{Name: e[0], Mode: 0o777, Linkname: target, Typeflag: tar.TypeSymlink}
		}
		if err := tw.WriteHeader(hd); err != nil {
			t.Fatal(err)
		}
		if hd.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e[1])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const evilChartYAML = "apiVersion: v2\nname: evil\nversion: 1.0.0\n"

func TestRemoteErrors(t *testing.T) {
	const pass, wrong = "right-pass-7", "wrong-pass-9"
	repo := newChartRepo(t, false, "ci", pass)
	repo.add(t, webCharts()...)
	evil := &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "evil", Version: "1.0.0"}
	repo.addRaw(t, evil, archive(t, [][2]string{{"evil/Chart.yaml", evilChartYAML}, {"evil/templates/../../../../tmp/x.yaml", "a: b\n"}}))
	link := &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "link", Version: "1.0.0"}
	repo.addRaw(t, link, archive(t, [][2]string{{"link/Chart.yaml", strings.ReplaceAll(evilChartYAML, "evil", "link")}, {"link/templates/passwd.yaml", "->/etc/passwd"}}))
	repoHost := strings.TrimPrefix(repo.URL, "http://")
	reg := newOCIRegistry(t, "ci", pass)
	reg.push(t, webCharts()...)

	right := map[string]helm.Credentials{repoHost: {Username: "ci", Password: pass}, reg.host: {Username: "ci", Password: pass}}
	bad := map[string]helm.Credentials{repoHost: {Username: "ci", Password: wrong}, reg.host: {Username: "ci", Password: wrong}}
	for _, tc := range []struct {
		name     string
		opts     *helm.RemoteOptions
		ref      render.HelmChart
		sentinel error
		contains string
	}{
		{name: "remote refused without opt-in", ref: render.HelmChart{Repository: repo.URL, Name: "web"},
			sentinel: render.ErrRemote, contains: "web"},
		{name: "wrong credentials, HTTP", opts: &helm.RemoteOptions{Credentials: bad}, ref: render.HelmChart{Repository: repo.URL, Name: "web"},
			contains: "401"},
		{name: "no credentials, HTTP", opts: &helm.RemoteOptions{}, ref: render.HelmChart{Repository: repo.URL, Name: "web"},
			contains: "401"},
		{name: "wrong credentials, OCI", opts: &helm.RemoteOptions{Credentials: bad, PlainHTTP: true},
			ref: render.HelmChart{Repository: reg.repository(), Name: "web", Version: "1.0.0"}, contains: "401"},
		{name: "missing version, HTTP", opts: &helm.RemoteOptions{Credentials: right}, ref: render.HelmChart{Repository: repo.URL, Name: "web", Version: "^3.0.0"},
			sentinel: helm.ErrChartNotFound, contains: "^3.0.0"},
		{name: "missing chart, HTTP", opts: &helm.RemoteOptions{Credentials: right}, ref: render.HelmChart{Repository: repo.URL, Name: "nope"},
			sentinel: helm.ErrChartNotFound, contains: "nope"},
		{name: "missing version, OCI", opts: &helm.RemoteOptions{Credentials: right, PlainHTTP: true},
			ref: render.HelmChart{Repository: reg.repository(), Name: "web", Version: "9.9.9"}, sentinel: helm.ErrChartNotFound, contains: "9.9.9"},
		{name: "missing constraint, OCI", opts: &helm.RemoteOptions{Credentials: right, PlainHTTP: true},
			ref: render.HelmChart{Repository: reg.repository(), Name: "web", Version: "~5.1"}, sentinel: helm.ErrChartNotFound, contains: "~5.1"},
		{name: "oversized archive, HTTP", opts: &helm.RemoteOptions{Credentials: right, MaxChartBytes: 100},
			ref: render.HelmChart{Repository: repo.URL, Name: "web"}, sentinel: render.ErrLimit, contains: "100 bytes"},
		{name: "oversized archive, OCI", opts: &helm.RemoteOptions{Credentials: right, PlainHTTP: true, MaxChartBytes: 100},
			ref: render.HelmChart{Repository: reg.repository(), Name: "web", Version: "1.0.0"}, sentinel: render.ErrLimit, contains: "100 bytes"},
		{name: "archive with ../ entries", opts: &helm.RemoteOptions{Credentials: right}, ref: render.HelmChart{Repository: repo.URL, Name: "evil"},
			sentinel: render.ErrOutsideRoot, contains: "../tmp/x.yaml"},
		{name: "archive with a symlink", opts: &helm.RemoteOptions{Credentials: right}, ref: render.HelmChart{Repository: repo.URL, Name: "link"},
			sentinel: render.ErrOutsideRoot, contains: "passwd.yaml"},
		{name: "credentials in the URL", opts: &helm.RemoteOptions{}, ref: render.HelmChart{Repository: "http://ci:" + pass + "@" + repoHost, Name: "web"},
			contains: "credentials in the URL"},
		{name: "unknown scheme", opts: &helm.RemoteOptions{}, ref: render.HelmChart{Repository: "ftp://" + repoHost, Name: "web"},
			contains: "ftp"},
		{name: "bad CA bundle", opts: &helm.RemoteOptions{CABundle: []byte("not PEM")}, ref: render.HelmChart{Repository: repo.URL, Name: "web"},
			contains: "CABundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo.reset()
			var logs logSink
			r := helm.New(helm.Options{Remote: tc.opts, Logger: logs.logger()})
			_, err := renderRemote(t, r, tc.ref)
			rendertest.WantError(t, err, tc.sentinel, tc.contains)
			for _, p := range []string{pass, wrong} {
				if strings.Contains(err.Error(), p) || strings.Contains(logs.String(), p) {
					t.Errorf("a password in the error or logs: %v\n%s", err, logs.String())
				}
			}
			if tc.opts == nil && repo.count("") != 0 {
				t.Errorf("%d requests without the opt-in", repo.count(""))
			}
		})
	}

	t.Run("TLS without the CA", func(t *testing.T) {
		tlsRepo := newChartRepo(t, true, "", "")
		tlsRepo.add(t, testChart("web", "1.0.0"))
		_, err := renderRemote(t, helm.New(helm.Options{Remote: &helm.RemoteOptions{}}), render.HelmChart{Repository: tlsRepo.URL, Name: "web"})
		rendertest.WantError(t, err, nil, "certificate")
	})
}

func TestRemoteCache(t *testing.T) {
	repo := newChartRepo(t, false, "", "")
	repo.add(t, testChart("web", "1.0.0"))
	cacheDir := t.TempDir()
	ref := render.HelmChart{Repository: repo.URL, Name: "web", Version: "^1"}
	in := render.Input{Digest: "values-v1"}
	opts := render.Options{Helm: render.HelmOptions{Chart: &ref}}
	ctx := context.Background()

	// A render cache in front of a renderer that trusts a resolved version for an
	// hour: the second render asks no server.
	cache := render.NewCache(helm.New(helm.Options{Remote: &helm.RemoteOptions{CacheDir: cacheDir, IndexTTL: time.Hour}}), 0)
	for i := range 2 {
		repo.reset()
		if _, err := cache.Render(ctx, in, opts); err != nil {
			t.Fatal(err)
		}
		if n, want := repo.count(""), []int{2, 0}[i]; n != want {
			t.Errorf("render %d: %d requests (%v), want %d", i+1, n, repo.paths, want)
		}
	}
	if hits, _ := cache.Stats(); hits != 1 {
		t.Errorf("%d cache hits, want 1", hits)
	}

	// A renderer that asks on every render finds the archive in the cache
	// directory, then sees a new upstream version at once.
	cache = render.NewCache(helm.New(helm.Options{Remote: &helm.RemoteOptions{CacheDir: cacheDir}}), 0)
	repo.reset()
	res, err := cache.Render(ctx, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := repo.count(".tgz"); n != 0 || renderedVersion(t, res) != "1.0.0" {
		t.Errorf("%d archive downloads, version %s: want 0 and 1.0.0", n, renderedVersion(t, res))
	}
	repo.add(t, testChart("web", "1.1.0"))
	res, err = cache.Render(ctx, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := renderedVersion(t, res); got != "1.1.0" {
		t.Errorf("after publishing 1.1.0, rendered %s", got)
	}
	if hits, _ := cache.Stats(); hits != 0 {
		t.Errorf("%d cache hits, want 0", hits)
	}

	// A cached archive that was tampered with is not used.
	files, _ := filepath.Glob(filepath.Join(cacheDir, "*.tgz"))
	if len(files) != 2 {
		t.Fatalf("cache directory holds %v, want 2 archives", files)
	}
	for _, f := range files {
		if err := os.WriteFile(f, archive(t, [][2]string{{"web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 6.6.6\n"}}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	repo.reset()
	res, err = helm.New(helm.Options{Remote: &helm.RemoteOptions{CacheDir: cacheDir}}).Render(ctx, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := renderedVersion(t, res); got != "1.1.0" || repo.count(".tgz") != 1 {
		t.Errorf("with a tampered cache: version %s after %d downloads, want 1.1.0 after 1", got, repo.count(".tgz"))
	}
}
