package health

// generic assesses an object of a kind without a built-in rule, following the
// kstatus conventions that controller authors use (Flux, Cluster API, Crossplane):
//
//   - status.observedGeneration below metadata.generation: Progressing;
//   - spec.suspend true: Suspended;
//   - condition Stalled True: Degraded;
//   - condition Reconciling True: Progressing;
//   - condition Ready True: Healthy; Ready False or Unknown: Progressing;
//   - no status at all, or none of these conditions: Healthy, since an object that
//     reports nothing (a ConfigMap, a Role) does its job once it exists.
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
	return status(Healthy, "")
}
