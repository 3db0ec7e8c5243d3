package clustertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KubernetesVersion is the version of the control plane hack/controlplane builds.
const KubernetesVersion = "v1.37.2"

// ErrBinariesMissing means the control plane binaries were not found.
var ErrBinariesMissing = errors.New("control plane binaries not found")

// binDir finds the directory holding the binaries: the option, the environment, or
// the newest complete build of KubernetesVersion in the cache.
func binDir(opt string, need []string) (string, error) {
	dir := opt
	if dir == "" {
		dir = os.Getenv("GITOPSKIT_CONTROLPLANE_DIR")
	}
	if dir == "" {
		dir = newestBuild(cacheDir())
	}
	if dir == "" {
		return "", fmt.Errorf("%w in %s: build them with `make controlplane` (hack/controlplane/build.sh) "+
			"or set GITOPSKIT_CONTROLPLANE_DIR", ErrBinariesMissing, filepath.Join(cacheDir(), "controlplane"))
	}
	for _, name := range need {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("%w: %s has no %s: rebuild with `make controlplane`", ErrBinariesMissing, dir, name)
		}
	}
	return dir, nil
}

func cacheDir() string {
	if d := os.Getenv("GITOPSKIT_CACHE_DIR"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "gitopskit")
}

func newestBuild(cache string) string {
	matches, _ := filepath.Glob(filepath.Join(cache, "controlplane", "kube-"+KubernetesVersion+"_*", ".complete"))
	var best string
	var bestTime int64
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil || strings.Contains(m, "/.build-") {
			continue
		}
		if t := fi.ModTime().UnixNano(); t > bestTime {
			best, bestTime = filepath.Dir(m), t
		}
	}
	return best
}
