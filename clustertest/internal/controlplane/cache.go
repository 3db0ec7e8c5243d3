package controlplane

import (
	"os"
	"path/filepath"
)

// SetupCommand builds the binaries from a module that requires gitopskit, for the
// gitopskit version that module requires.
const SetupCommand = "go run github.com/gitopskit/gitopskit/clustertest/setup"

// complete names the file a finished build holds; a directory without it is a build
// that was interrupted.
const complete = ".complete"

// CacheDir returns the directory gitopskit's caches live in: $GITOPSKIT_CACHE_DIR,
// else gitopskit under the user's cache directory, else under the temporary directory.
func CacheDir() string {
	if d := os.Getenv("GITOPSKIT_CACHE_DIR"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "gitopskit")
}

// BuildsDir returns the directory under cache that holds the builds, one directory
// per key (see [Key]).
func BuildsDir(cache string) string {
	return filepath.Join(cache, "controlplane")
}

// Find returns the directory of the build of the embedded module under cache if it
// is complete, else the newest complete build of the same Kubernetes version (built
// by another gitopskit version), else "".
func Find(cache string) string {
	if key, err := Key(); err == nil && isComplete(filepath.Join(BuildsDir(cache), key)) {
		return filepath.Join(BuildsDir(cache), key)
	}
	v, err := ModuleVersions()
	if err != nil {
		return ""
	}
	matches, _ := filepath.Glob(filepath.Join(BuildsDir(cache), "kube-"+v.Kubernetes+"_*", complete))
	var best string
	var bestTime int64
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil {
			continue
		}
		if t := fi.ModTime().UnixNano(); t > bestTime {
			best, bestTime = filepath.Dir(m), t
		}
	}
	return best
}

func isComplete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, complete))
	return err == nil
}
