package clustertest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const dirPattern = "clustertest-*"

// markOwner records which process owns a cluster directory.
func markOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600)
}

// sweepOrphans removes the directories of clusters whose process died without
// cleaning up (a killed test binary: its components die with it, see sysProcAttr,
// but its files stay). Directories of live processes are left alone.
func sweepOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue // not ours, or still being created
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
