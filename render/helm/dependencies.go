package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/internal/logging"
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

// missingDependencies returns the dependencies Chart.yaml (or a v1 chart's
// requirements.yaml) lists that c's charts/ directory does not hold, after
// checking that the chart's metadata is valid and that its lock (when there is
// one) was made from this list, as `helm dependency build` does. Errors about
// several dependencies name them all.
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
	lock, lockFile, err := chartLock(c, md)
	if err != nil {
		return nil, err
	}
	var (
		out  []dependency
		errs []error
		seen = map[render.HelmChart]bool{} // one chart under two aliases is one dependency
	)
	for _, d := range missing {
		dep := dependency{HelmChart: render.HelmChart{Repository: d.Repository, Name: d.Name, Version: d.Version}, from: path.Join(c.Dir, md.from)}
		if lock != nil {
			locked := lockedDependency(lock, d.Name)
			if locked == nil {
				errs = append(errs, fmt.Errorf("%s: dependency %s is not locked", lockFile, d.Name))
				continue
			}
			dep.HelmChart = render.HelmChart{Repository: locked.Repository, Name: locked.Name, Version: locked.Version}
			dep.from = lockFile
		}
		if seen[dep.HelmChart] {
			continue
		}
		seen[dep.HelmChart] = true
		switch r := dep.Repository; {
		case r == "":
			errs = append(errs, fmt.Errorf("%s: dependency %s is not in charts/ and names no repository", dep.from, d.Name))
		case strings.HasPrefix(r, "@"), strings.HasPrefix(r, "alias:"):
			errs = append(errs, fmt.Errorf("%s: dependency %s: repository %s is an alias of Helm's repositories.yaml, which is not read: use its URL", dep.from, d.Name, r))
		default:
			out = append(out, dep)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if lock != nil {
		if err := checkLockDigest(md.Dependencies, lock); err != nil {
			return nil, fmt.Errorf("%s: %w", lockFile, err)
		}
	}
	return out, nil
}

// addDependencies adds the missing dependencies of c under charts/<name>/ (or
// charts/<name>-<version>/ for a second version of a chart): charts
// of the artifact (file://) through fsys, others from their repositories when
// remote charts are allowed. Without, the error names every remote dependency.
func (r *Renderer) addDependencies(ctx context.Context, fsys fs.FS, c Chart, maxBytes int64) (Chart, error) {
	deps, err := missingDependencies(c, maxBytes)
	if err != nil || len(deps) == 0 {
		return c, err
	}
	if r.remote == nil {
		var remote []string
		for _, d := range deps {
			if !d.local() {
				remote = append(remote, fmt.Sprintf("%s (%s)", d.Name, redact(d.Repository)))
			}
		}
		switch len(remote) {
		case 0:
		case 1:
			return Chart{}, fmt.Errorf("%s: dependency %s is not in charts/: %w: set helm.Options.Remote to fetch it",
				deps[0].from, remote[0], render.ErrRemote)
		default:
			return Chart{}, fmt.Errorf("%s: dependencies %s are not in charts/: %w: set helm.Options.Remote to fetch them",
				deps[0].from, strings.Join(remote, ", "), render.ErrRemote)
		}
	}
	used := chartBytes(c)
	files := append([]File(nil), c.Files...)
	dirs := map[string]bool{}
	for _, d := range deps {
		var sub Chart
		if d.local() {
			if sub, err = localDependency(fsys, c.Dir, d, maxBytes-used); err != nil {
				return Chart{}, err
			}
		} else if sub, _, err = r.remote.chart(ctx, d.HelmChart, maxBytes-used, logging.From(ctx, r.log)); err != nil {
			return Chart{}, fmt.Errorf("%s: dependency %s: %w", d.from, d.Name, err)
		}
		if name, err := chartName(sub); err != nil {
			return Chart{}, fmt.Errorf("%s: dependency %s: %w", d.from, d.Name, err)
		} else if name != d.Name {
			return Chart{}, fmt.Errorf("%s: dependency %s: %s holds chart %q", d.from, d.Name, sub.Dir, name)
		}
		used += chartBytes(sub)
		dir := "charts/" + d.Name
		if dirs[dir] { // another version of the same chart, for another alias
			dir += "-" + d.Version
		}
		dirs[dir] = true
		for _, f := range sub.Files {
			files = append(files, File{Name: dir + "/" + f.Name, Data: f.Data})
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

// metadata is a chart's Chart.yaml, with the dependencies Helm reads.
type metadata struct {
	*chart.Metadata
	from string // the file the dependencies come from: Chart.yaml or requirements.yaml
}

// chartMetadata reads c's Chart.yaml, and its requirements.yaml when it has one
// (where apiVersion v1 charts list their dependencies; Helm reads it in any
// chart), and checks the result as Helm's loader does, so that an invalid chart
// is reported before anything is done about its dependencies.
func chartMetadata(c Chart) (metadata, error) {
	chartYAML, ok := chartFile(c, "Chart.yaml")
	if !ok {
		return metadata{}, fmt.Errorf("%s: no Chart.yaml", c.Dir)
	}
	md := metadata{Metadata: &chart.Metadata{}, from: "Chart.yaml"}
	if err := yaml.Unmarshal(chartYAML, md.Metadata); err != nil {
		return metadata{}, fmt.Errorf("%s: %w", path.Join(c.Dir, "Chart.yaml"), err)
	}
	if data, ok := chartFile(c, "requirements.yaml"); ok {
		if err := yaml.Unmarshal(data, md.Metadata); err != nil {
			return metadata{}, fmt.Errorf("%s: %w", path.Join(c.Dir, "requirements.yaml"), err)
		}
		md.from = "requirements.yaml"
	}
	if err := md.Validate(); err != nil {
		return metadata{}, fmt.Errorf("%s: %w", path.Join(c.Dir, md.from), err)
	}
	return md, nil
}

// chartFile returns the data of c's file name.
func chartFile(c Chart, name string) ([]byte, bool) {
	for _, f := range c.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// chartLock returns the lock of md's dependencies (requirements.lock for those of
// requirements.yaml, else Chart.lock) and its path, or nil when there is none.
func chartLock(c Chart, md metadata) (*chart.Lock, string, error) {
	name := "Chart.lock"
	if md.from == "requirements.yaml" {
		name = "requirements.lock"
	}
	file := path.Join(c.Dir, name)
	data, ok := chartFile(c, name)
	if !ok {
		return nil, file, nil
	}
	lock := &chart.Lock{}
	if err := yaml.Unmarshal(data, lock); err != nil {
		return nil, file, fmt.Errorf("%s: %w", file, err)
	}
	return lock, file, nil
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

// mayNeedRemote tells from the chart's metadata alone whether it has
// dependencies that may come from a repository.
func mayNeedRemote(md metadata) bool {
	for _, d := range md.Dependencies {
		if d != nil && d.Repository != "" && !strings.HasPrefix(d.Repository, "file://") {
			return true
		}
	}
	return false
}
