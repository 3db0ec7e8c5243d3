package helm_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	helmregistry "helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
)

// cmTemplate renders a ConfigMap that tells which chart version made it.
const cmTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  namespace: {{ .Release.Namespace }}
data:
  version: {{ .Chart.Version | quote }}
  greeting: {{ .Values.greeting | quote }}
`

// testChart returns a chart of one ConfigMap template.
func testChart(name, version string) *chart.Chart {
	return &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version},
		Raw:       []*chart.File{{Name: "values.yaml", Data: []byte("greeting: hello\n")}},
		Values:    map[string]any{"greeting": "hello"},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte(cmTemplate)}},
	}
}

// packageChart writes c's archive into dir with the Helm SDK and returns its path.
func packageChart(t testing.TB, c *chart.Chart, dir string) string {
	t.Helper()
	file, err := chartutil.Save(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// requestLog counts the requests a test server answers, by path.
type requestLog struct {
	mu    sync.Mutex
	paths map[string]int
}

func (l *requestLog) wrap(user, pass string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		if l.paths == nil {
			l.paths = map[string]int{}
		}
		l.paths[r.URL.Path]++
		l.mu.Unlock()
		if user != "" {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// count returns the number of requests for paths ending in suffix.
func (l *requestLog) count(suffix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for p, c := range l.paths {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paths = nil
}

// chartRepo is an HTTP chart repository on loopback: a directory of archives
// and the index.yaml Helm's repo.IndexDirectory makes of them.
type chartRepo struct {
	*httptest.Server
	requestLog
	dir   string
	extra []*repo.ChartVersion // entries added by hand, for archives Helm cannot load
	ca    []byte               // PEM of the server's certificate, over TLS
}

func newChartRepo(t *testing.T, tls bool, user, pass string) *chartRepo {
	t.Helper()
	r := &chartRepo{dir: t.TempDir()}
	h := r.wrap(user, pass, http.FileServer(http.Dir(r.dir)))
	if tls {
		r.Server = httptest.NewUnstartedServer(h)
		r.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the tests make fail
		r.StartTLS()
		r.ca = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate().Raw})
	} else {
		r.Server = httptest.NewServer(h)
	}
	t.Cleanup(r.Close)
	return r
}

// add packages charts into the repository and indexes it again.
func (r *chartRepo) add(t *testing.T, charts ...*chart.Chart) {
	t.Helper()
	for _, c := range charts {
		packageChart(t, c, r.dir)
	}
	r.index(t)
}

// addRaw serves data as the archive of the chart md, which Helm's indexer could
// not read (a malicious or oversized archive).
func (r *chartRepo) addRaw(t *testing.T, md *chart.Metadata, data []byte) {
	t.Helper()
	file := md.Name + "-" + md.Version + ".raw.tgz"
	if err := os.WriteFile(filepath.Join(r.dir, file), data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	r.extra = append(r.extra, &repo.ChartVersion{Metadata: md, URLs: []string{file}, Digest: hex.EncodeToString(sum[:])})
	r.index(t)
}

func (r *chartRepo) index(t *testing.T) {
	t.Helper()
	idx, err := repo.IndexDirectory(r.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, cv := range r.extra {
		idx.Entries[cv.Name] = append(idx.Entries[cv.Name], cv)
	}
	idx.SortEntries()
	if err := idx.WriteFile(filepath.Join(r.dir, "index.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ociRegistry is an OCI registry on loopback (go-containerregistry's), with
// charts pushed by Helm's registry client.
type ociRegistry struct {
	*httptest.Server
	requestLog
	host       string
	user, pass string
}

func newOCIRegistry(t *testing.T, user, pass string) *ociRegistry {
	t.Helper()
	r := &ociRegistry{user: user, pass: pass}
	r.Server = httptest.NewServer(r.wrap(user, pass, registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	r.host = strings.TrimPrefix(r.URL, "http://")
	t.Cleanup(r.Close)
	return r
}

// repository is the oci:// URL of the registry's "charts" repository.
func (r *ociRegistry) repository() string { return "oci://" + r.host + "/charts" }

func (r *ociRegistry) push(t *testing.T, charts ...*chart.Chart) {
	t.Helper()
	opts := []helmregistry.ClientOption{
		helmregistry.ClientOptPlainHTTP(),
		helmregistry.ClientOptCredentialsFile(filepath.Join(t.TempDir(), "config.json")),
	}
	if r.user != "" {
		opts = append(opts, helmregistry.ClientOptBasicAuth(r.user, r.pass))
	}
	client, err := helmregistry.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range charts {
		data, err := os.ReadFile(packageChart(t, c, dir))
		if err != nil {
			t.Fatal(err)
		}
		ref := r.host + "/charts/" + c.Name() + ":" + strings.ReplaceAll(c.Metadata.Version, "+", "_")
		if _, err := client.Push(data, ref); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}
	r.reset()
}

// helmHome points the helm program at empty configuration and cache
// directories, so that it neither reads nor changes the user's.
func helmHome(t *testing.T) {
	home := t.TempDir()
	for _, v := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		t.Setenv(v, filepath.Join(home, v))
	}
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, "docker"))
}
