package helm

import (
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/repo"
)

// helmIndex loads data with Helm's own index reader.
func helmIndex(t testing.TB, data []byte) (*repo.IndexFile, error) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "index.yaml")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return repo.LoadIndexFile(name)
}

const testIndex = `apiVersion: v1
generated: "2026-01-02T03:04:05Z"
entries:
  web:
    - {name: web, version: 1.2.0, urls: [web-1.2.0.tgz], digest: a}
    - {name: web, version: 2.0.0-rc.1, urls: [web-2.0.0-rc.1.tgz]}
    - {name: web, version: not-semver, urls: [web-x.tgz]}
    - {name: web, version: 1.10.0, urls: ["https://cdn.example.com/web-1.10.0.tgz"], checksum: old, engine: gotpl}
    - {name: web, version: 0.9.0, urls: [web-0.9.0.tgz], apiVersion: v2, dependencies: [{name: db}, {name: db}]}
    - {name: "", version: 3.0.0, urls: [bad.tgz]}
    - null
  empty: []
`

// TestIndexAsHelm checks that the index reader that replaces Helm's pkg/repo
// keeps and picks the versions Helm does, and resolves chart URLs as Helm does.
func TestIndexAsHelm(t *testing.T) {
	for _, data := range []string{testIndex, `{"apiVersion":"v1","entries":{"web":[{"name":"web","version":"1.0.0","urls":["a.tgz"]},{"name":"web","version":"1.1.0","urls":["b.tgz"]}]}}`} {
		ours, err := parseIndex([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := helmIndex(t, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		for name, versions := range theirs.Entries {
			var want, got []string
			for _, cv := range versions {
				want = append(want, cv.Version)
			}
			for _, cv := range ours.Entries[name] {
				got = append(got, cv.Version)
			}
			if len(got) != len(want) || len(ours.Entries) != len(theirs.Entries) {
				t.Fatalf("%s: versions %q, Helm keeps %q", name, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: versions %q, Helm sorts %q", name, got, want)
				}
			}
			for _, constraint := range []string{"", "*", "^1.0.0", "~1.2", "1.2.0", "not-semver", ">=2.0.0-0", "^5", "0.9.0"} {
				cv, err := pickVersion(ours.Entries[name], constraint)
				hcv, herr := theirs.Get(name, constraint)
				if (err == nil) != (herr == nil) {
					t.Fatalf("%s %q: error %v, Helm's %v", name, constraint, err, herr)
				}
				if err == nil && cv.Version != hcv.Version {
					t.Errorf("%s %q: picked %s, Helm %s", name, constraint, cv.Version, hcv.Version)
				}
			}
		}
	}
	for _, tc := range [][2]string{
		{"https://charts.example.com/stable", "index.yaml"},
		{"https://charts.example.com/stable/", "web-1.0.0.tgz"},
		{"https://charts.example.com/a%2Fb?token=x", "charts/web-1.0.0.tgz"},
		{"https://charts.example.com", "https://cdn.example.com/web.tgz"},
		{"https://charts.example.com/x", "../web.tgz"},
	} {
		got, err := resolveURL(tc[0], tc[1])
		want, herr := repo.ResolveReferenceURL(tc[0], tc[1])
		if err != nil || herr != nil || got != want {
			t.Errorf("resolveURL(%q, %q) = %q, %v; Helm: %q, %v", tc[0], tc[1], got, err, want, herr)
		}
	}
}

// FuzzParseIndex checks that parseIndex never panics and accepts what Helm's
// reader accepts, with the same newest version of each chart.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(testIndex))
	f.Add([]byte(`{"apiVersion":"v1","entries":{"a":[{"name":"a","version":"1.0.0"}]}}`))
	f.Add([]byte("apiVersion: v1\nentries:\n  a:\n    - {name: a, version: 1.0.0, extra: 1}\n"))
	f.Add([]byte("entries: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, err := parseIndex(data)
		theirs, herr := helmIndex(t, data)
		if (err == nil) != (herr == nil) {
			t.Fatalf("error %v, Helm's %v", err, herr)
		}
		if err != nil {
			return
		}
		for name := range theirs.Entries {
			cv, err := pickVersion(ours.Entries[name], "")
			hcv, herr := theirs.Get(name, "")
			if (err == nil) != (herr == nil) || err == nil && cv.Version != hcv.Version {
				t.Fatalf("%s: picked %v (%v), Helm %v (%v)", name, cv, err, hcv, herr)
			}
		}
	})
}
