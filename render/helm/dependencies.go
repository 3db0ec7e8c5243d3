package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/render"
)

// dependency is a dependency of a chart that its charts/ directory lacks, with
// where to get it from: Chart.lock's version when there is a lock, else
// Chart.yaml's constraint.
type dependency struct {
	render.HelmChart
	// from is the file that says so, for errors ("app/Chart.lock").
	from string
}

// local tells whether the dependency is a chart in the artifact (file://).
func (d dependency) local() bool { return strings.HasPrefix(d.Repository, "file://") }

// missingDependencies returns the dependencies Chart.yaml lists that c's charts/
// directory does not hold, after checking that Chart.lock (when there is one) was
// made from this Chart.yaml, as `helm dependency build` does.
func missingDependencies(c Chart, maxBytes int64) ([]dependency, error) {
	md, err := chartMetadata(c)
	if err != nil || len(md.Dependencies) == 0 {
		return nil, err
	}
	present, err := subchartNames(c, maxBytes)
	if err != nil {
		return nil, err
	}
	var missing []*chart.Dependency
	for _, d := range md.Dependencies {
		if d != nil && !present[d.Name] {
			missing = append(missing, d)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	lockFile := path.Join(c.Dir, "Chart.lock")
	lock, err := chartLock(c)
	if err != nil {
		return nil, err
	}
	var out []dependency
	for _, d := range missing {
		dep := dependency{HelmChart: render.HelmChart{Repository: d.Repository, Name: d.Name, Version: d.Version}, from: path.Join(c.Dir, "Chart.yaml")}
		if lock != nil {
			locked := lockedDependency(lock, d.Name)
			if locked == nil {
				return nil, fmt.Errorf("%s: dependency %s is not locked", lockFile, d.Name)
			}
			dep.HelmChart = render.HelmChart{Repository: locked.Repository, Name: locked.Name, Version: locked.Version}
			dep.from = lockFile
		}
		switch r := dep.Repository; {
		case r == "":
			return nil, fmt.Errorf("%s: dependency %s is not in charts/ and names no repository", dep.from, d.Name)
		case strings.HasPrefix(r, "@"), strings.HasPrefix(r, "alias:"):
			return nil, fmt.Errorf("%s: dependency %s: repository %s is an alias of Helm's repositories.yaml, which is not read: use its URL", dep.from, d.Name, r)
		}
		out = append(out, dep)
	}
	if lock != nil {
		if err := checkLockDigest(md.Dependencies, lock); err != nil {
			return nil, fmt.Errorf("%s: %w", lockFile, err)
		}
	}
	return out, nil
}

// addDependencies adds the missing dependencies of c under charts/<name>/: charts
// of the artifact (file://) through fsys, others from their repositories when
// remote charts are allowed.
func (r *Renderer) addDependencies(ctx context.Context, fsys fs.FS, c Chart, maxBytes int64) (Chart, error) {
	deps, err := missingDependencies(c, maxBytes)
	if err != nil || len(deps) == 0 {
		return c, err
	}
	used := chartBytes(c)
	files := append([]File(nil), c.Files...)
	for _, d := range deps {
		var sub Chart
		if d.local() {
			if sub, err = localDependency(fsys, c.Dir, d, maxBytes-used); err != nil {
				return Chart{}, err
			}
		} else {
			if r.remote == nil {
				return Chart{}, fmt.Errorf("%s: dependency %s (%s) is not in charts/: %w: set helm.Options.Remote to fetch it",
					d.from, d.Name, redact(d.Repository), render.ErrRemote)
			}
			if sub, _, err = r.remote.chart(ctx, d.HelmChart, maxBytes-used, r.log); err != nil {
				return Chart{}, fmt.Errorf("%s: dependency %s: %w", d.from, d.Name, err)
			}
		}
		if name, err := chartName(sub); err != nil {
			return Chart{}, fmt.Errorf("%s: dependency %s: %w", d.from, d.Name, err)
		} else if name != d.Name {
			return Chart{}, fmt.Errorf("%s: dependency %s: %s holds chart %q", d.from, d.Name, sub.Dir, name)
		}
		used += chartBytes(sub)
		for _, f := range sub.Files {
			files = append(files, File{Name: "charts/" + d.Name + "/" + f.Name, Data: f.Data})
		}
	}
	return Chart{Dir: c.Dir, Files: files}, nil
}

// pinDependencies resolves the remote dependencies c lacks, without fetching
// them, for render.Cache keys.
func (r *Renderer) pinDependencies(ctx context.Context, c Chart, maxBytes int64) ([]string, error) {
	deps, err := missingDependencies(c, maxBytes)
	if err != nil {
		return nil, err
	}
	var pins []string
	for _, d := range deps {
		if d.local() {
			continue
		}
		rc, err := r.remote.resolve(ctx, d.HelmChart)
		if err != nil {
			return nil, fmt.Errorf("%s: dependency %s: %w", d.from, d.Name, err)
		}
		pins = append(pins, rc.pin())
	}
	return pins, nil
}

// localDependency loads a file:// dependency, which must stay in the artifact.
func localDependency(fsys fs.FS, chartDir string, d dependency, maxBytes int64) (Chart, error) {
	rel := strings.TrimPrefix(d.Repository, "file://")
	dir := path.Clean(path.Join(chartDir, rel))
	if path.IsAbs(rel) || !fs.ValidPath(dir) {
		return Chart{}, fmt.Errorf("%s: dependency %s: %s: %w", d.from, d.Name, d.Repository, render.ErrOutsideRoot)
	}
	sub, err := loadChart(fsys, dir, maxBytes)
	if err != nil {
		return Chart{}, fmt.Errorf("%s: dependency %s: %w", d.from, d.Name, err)
	}
	return sub, nil
}

// subchartNames returns the names of the charts in c's charts/ directory, as
// directories or archives.
func subchartNames(c Chart, maxBytes int64) (map[string]bool, error) {
	names := map[string]bool{}
	for _, f := range c.Files {
		rest, ok := strings.CutPrefix(f.Name, "charts/")
		if !ok {
			continue
		}
		var sub Chart
		switch dir, file, _ := strings.Cut(rest, "/"); {
		case file == "Chart.yaml":
			sub = Chart{Dir: path.Join(c.Dir, "charts", dir), Files: []File{{Name: "Chart.yaml", Data: f.Data}}}
		case file == "" && (strings.HasSuffix(rest, ".tgz") || strings.HasSuffix(rest, ".tar.gz")):
			files, err := readArchive(f.Data, path.Join(c.Dir, f.Name), maxBytes)
			if err != nil {
				return nil, err
			}
			sub = Chart{Dir: path.Join(c.Dir, f.Name), Files: files}
		default:
			continue
		}
		name, err := chartName(sub)
		if err != nil {
			return nil, err
		}
		names[name] = true
	}
	return names, nil
}

func chartMetadata(c Chart) (*chart.Metadata, error) {
	for _, f := range c.Files {
		if f.Name == "Chart.yaml" {
			md := &chart.Metadata{}
			if err := yaml.Unmarshal(f.Data, md); err != nil {
				return nil, fmt.Errorf("%s: %w", path.Join(c.Dir, f.Name), err)
			}
			return md, nil
		}
	}
	return nil, fmt.Errorf("%s: no Chart.yaml", c.Dir)
}

// chartLock returns c's Chart.lock, or nil when it has none.
func chartLock(c Chart) (*chart.Lock, error) {
	for _, f := range c.Files {
		if f.Name == "Chart.lock" {
			lock := &chart.Lock{}
			if err := yaml.Unmarshal(f.Data, lock); err != nil {
				return nil, fmt.Errorf("%s: %w", path.Join(c.Dir, f.Name), err)
			}
			return lock, nil
		}
	}
	return nil, nil
}

func lockedDependency(lock *chart.Lock, name string) *chart.Dependency {
	for _, d := range lock.Dependencies {
		if d != nil && d.Name == name {
			return d
		}
	}
	return nil
}

// checkLockDigest checks the lock's digest: Helm 3's hash of the dependencies
// Chart.yaml asks for and those the lock holds, which `helm dependency build`
// also requires to match.
func checkLockDigest(req []*chart.Dependency, lock *chart.Lock) error {
	data, err := json.Marshal([2][]*chart.Dependency{req, lock.Dependencies})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != lock.Digest {
		return fmt.Errorf("out of sync with Chart.yaml: digest %s, the dependencies hash to %s: run `helm dependency update`", lock.Digest, got)
	}
	return nil
}

func chartBytes(c Chart) int64 {
	var n int64
	for _, f := range c.Files {
		n += int64(len(f.Data))
	}
	return n
}

// mayNeedRemote tells from Chart.yaml alone whether a chart has dependencies
// that may come from a repository.
func mayNeedRemote(md *chart.Metadata) bool {
	for _, d := range md.Dependencies {
		if d != nil && d.Repository != "" && !strings.HasPrefix(d.Repository, "file://") {
			return true
		}
	}
	return false
}
