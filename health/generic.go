package health

import "strings"

// generic assesses an object of a kind without a built-in or library rule,
// following the kstatus conventions that controller authors use (Flux, Cluster
// API, Crossplane), then the phase convention of older controllers:
//
//   - status.observedGeneration below metadata.generation: Progressing;
//   - spec.suspend true: Suspended;
//   - condition Stalled True: Degraded;
//   - condition Reconciling True: Progressing;
//   - condition Ready True: Healthy; Ready False or Unknown: Progressing;
//   - without these conditions, status.phase: Pending, Running, Progressing are
//     Progressing; Failed, Error are Degraded; Succeeded, Completed, Ready, Active,
//     Bound, Healthy are Healthy (in any letter case);
//   - otherwise Healthy, since an object that reports nothing (a ConfigMap, a Role)
//     does its job once it exists. (An object whose controller is expected to write
//     a status and has not yet is Progressing before this rule runs.)
func generic(obj map[string]any) Status {
	if ok, msg := observed(obj, false); !ok {
		return status(Progressing, msg)
	}
	if boolean(field(obj, "spec"), "suspend") {
		return status(Suspended, "suspended")
	}
	st := field(obj, "status")
	if st == nil {
		return status(Healthy, "")
	}
	if c := condition(st, "Stalled"); isTrue(c) {
		return status(Degraded, "stalled: "+explain(c))
	}
	if c := condition(st, "Reconciling"); isTrue(c) {
		return status(Progressing, "reconciling"+suffix(str(c, "reason"), str(c, "message")))
	}
	if c := condition(st, "Ready"); c != nil {
		if isTrue(c) {
			return status(Healthy, str(c, "message"))
		}
		return status(Progressing, "not ready"+suffix(str(c, "reason"), str(c, "message")))
	}
	if phase := str(st, "phase"); phase != "" {
		if c, ok := phaseCode(phase); ok {
			return status(c, "phase "+phase+suffix("", str(st, "message")))
		}
	}
	return status(Healthy, "")
}

// phaseCode reads the phase convention.
func phaseCode(phase string) (Code, bool) {
	switch strings.ToLower(phase) {
	case "pending", "running", "progressing":
		return Progressing, true
	case "failed", "error":
		return Degraded, true
	case "succeeded", "completed", "ready", "active", "bound", "healthy":
		return Healthy, true
	}
	return "", false
}
