package reconcile

import "fmt"

// Mode says what a pass may write.
type Mode int

const (
	// Apply applies a revision the reconciler has not applied yet (and the first
	// revision it sees). Changes made in the cluster while the revision stays the
	// same are reported as drift, not reverted.
	Apply Mode = iota
	// SelfHeal applies whenever the cluster differs from the desired state: a new
	// revision, and drift such as a manual edit or a deleted object.
	SelfHeal
	// DriftOnly writes nothing: it reports which objects are out of sync.
	DriftOnly
	// DryRun writes nothing: it computes the plan and, when the plan changes
	// something, runs the apply and prune as a server-side dry run so the result
	// says what a real pass would do and admission would refuse.
	DryRun
)

var modeNames = [...]string{Apply: "apply", SelfHeal: "self-heal", DriftOnly: "drift-only", DryRun: "dry-run"}

// String returns the mode's name: "apply", "self-heal", "drift-only" or "dry-run".
func (m Mode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return fmt.Sprintf("Mode(%d)", int(m))
	}
	return modeNames[m]
}

// ParseMode parses a mode's name as [Mode.String] prints it.
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if n == s {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown mode %q (want apply, self-heal, drift-only or dry-run)", s)
}

// writes reports whether the mode changes the cluster.
func (m Mode) writes() bool { return m == Apply || m == SelfHeal }
