package clustertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitopskit/gitopskit/clustertest/internal/controlplane"
)

// KubernetesVersion is the version of the control plane clustertest/setup builds.
const KubernetesVersion = "v1.37.2"

// ErrBinariesMissing means the control plane binaries were not found. The error that
// wraps it names the command that builds them.
var ErrBinariesMissing = errors.New("control plane binaries not found")

// binDir finds the directory holding the binaries: the option, the environment, or
// the build in the cache (see controlplane.Find).
func binDir(opt string, need []string) (string, error) {
	dir := opt
	if dir == "" {
		dir = os.Getenv("GITOPSKIT_CONTROLPLANE_DIR")
	}
	cache := controlplane.CacheDir()
	if dir == "" {
		dir = controlplane.Find(cache)
	}
	if dir == "" {
		return "", fmt.Errorf("%w in %s: build them with `%s` run from your module (%s, once per machine), "+
			"or set GITOPSKIT_CONTROLPLANE_DIR", ErrBinariesMissing, controlplane.BuildsDir(cache),
			controlplane.SetupCommand, controlplane.ColdBuild)
	}
	for _, name := range need {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("%w: %s has no %s: build them with `%s` run from your module, "+
				"or set GITOPSKIT_CONTROLPLANE_DIR", ErrBinariesMissing, dir, name, controlplane.SetupCommand)
		}
	}
	return dir, nil
}
