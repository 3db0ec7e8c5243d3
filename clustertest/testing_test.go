package clustertest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFailedTestGetsLogs: a test that fails gets what the components logged while
// it ran, and only that; a test that passes gets nothing.
func TestFailedTestGetsLogs(t *testing.T) {
	cluster.Config(t)
	var apiserver *process
	for _, p := range cluster.allProcs() {
		if p.name == "kube-apiserver" {
			apiserver = p
		}
	}
	require.NotNil(t, apiserver)
	appendLog := func(line string) {
		f, err := os.OpenFile(apiserver.log, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = fmt.Fprintln(f, line)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}

	for _, failed := range []bool{true, false} {
		appendLog("E0101 logged before the test")
		ft := &recordingT{TB: t, failed: failed}
		cluster.Config(ft)
		cluster.NewNamespace(ft) // takes the cluster again: the logs come once
		appendLog("E0101 logged during the test")
		ft.cleanup()

		logs := strings.Join(ft.logs, "\n")
		if !failed {
			assert.Empty(t, logs)
			continue
		}
		assert.Equal(t, 1, strings.Count(logs, "clustertest: kube-apiserver logged during the test"), logs)
		assert.Contains(t, logs, "E0101 logged during the test")
		assert.NotContains(t, logs, "logged before the test")
		assert.Contains(t, logs, "clustertest: etcd ")
	}
}

func TestTailFrom(t *testing.T) {
	path := t.TempDir() + "/log"
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	out, err := tailFrom(path, 0, 3)
	require.NoError(t, err)
	assert.Equal(t, "line 97\nline 98\nline 99", out)
	out, err = tailFrom(path, int64(b.Len()-len("line 99\n")), 3)
	require.NoError(t, err)
	assert.Equal(t, "line 99", out)
	out, err = tailFrom(path, int64(b.Len()), 3)
	require.NoError(t, err)
	assert.Empty(t, out)

	// A log longer than tailBytes is read from its end, without a cut first line.
	long := strings.Repeat("x", tailBytes) + "\nlast\n"
	require.NoError(t, os.WriteFile(path, []byte(long), 0o600))
	out, err = tailFrom(path, 0, 3)
	require.NoError(t, err)
	assert.Equal(t, "last", out)
}

// recordingT records what a test logs and the cleanups it registers, and reports the
// failure state it is given.
type recordingT struct {
	testing.TB
	failed   bool
	logs     []string
	cleanups []func()
}

func (r *recordingT) Helper()          {}
func (r *recordingT) Failed() bool     { return r.failed }
func (r *recordingT) Name() string     { return "TestRecorded" }
func (r *recordingT) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingT) Logf(format string, a ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, a...))
}
func (r *recordingT) Log(a ...any) { r.logs = append(r.logs, fmt.Sprint(a...)) }
func (r *recordingT) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}
