package diff_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParity(t *testing.T) {
	// Runs after the cluster tests (go test runs files in name order, tests in
	// source order): it reports the engines' agreement over every object they diffed.
	parity.Lock()
	defer parity.Unlock()
	if parity.compared == 0 {
		t.Skip("no object was diffed by both engines (run the whole package)")
	}
	t.Logf("parity: %d objects diffed by both engines, %d disagreements", parity.compared, parity.disagreed)
	assert.Zero(t, parity.disagreed, strings.Join(parity.details, "\n"))
}
