package health

// The rules of the apps group follow what the workload controllers write and what
// `kubectl rollout status` reads: a rollout is over when the controller observed the
// latest generation, every replica runs the new template, no old replica is left
// and the new ones are available.

func deployment(obj map[string]any) Status {
	if ok, msg := observed(obj, true); !ok {
		return status(Progressing, msg)
	}
	spec, st := field(obj, "spec"), field(obj, "status")
	if boolean(spec, "paused") {
		return status(Suspended, "Deployment is paused")
	}
	if c := condition(st, "Progressing"); isFalse(c) && str(c, "reason") == "ProgressDeadlineExceeded" {
		return status(Degraded, "Deployment exceeded its progress deadline: "+str(c, "message"))
	}
	want := countOr(spec, "replicas", 1)
	updated, total := count(st, "updatedReplicas"), count(st, "replicas")
	available := count(st, "availableReplicas")
	var msg string
	switch {
	case updated < want:
		msg = "waiting for rollout: " + of(updated, want, "replicas updated")
	case total > updated:
		msg = "waiting for rollout: " + itoa(total-updated) + " old replicas pending termination"
	case available < updated:
		msg = "waiting for rollout: " + of(available, updated, "updated replicas available")
	default:
		return status(Healthy, of(available, want, "replicas available"))
	}
	return status(Progressing, replicaFailure(st)+msg)
}

// replicaFailure reads the ReplicaFailure condition that the ReplicaSet controller
// sets when it cannot create a pod (a quota, an admission webhook) and that the
// Deployment controller copies. The controller retries, and the Deployment's
// progress deadline tells when to give up, so it is a reason for Progressing, not
// Degraded (as kstatus has it). It returns "" or "cannot create pods: ...; ".
func replicaFailure(st map[string]any) string {
	c := condition(st, "ReplicaFailure")
	if !isTrue(c) {
		return ""
	}
	if why := explain(c); why != "" {
		return "cannot create pods: " + why + "; "
	}
	return "cannot create pods (ReplicaFailure); "
}

func statefulSet(obj map[string]any) Status {
	if ok, msg := observed(obj, true); !ok {
		return status(Progressing, msg)
	}
	spec, st := field(obj, "spec"), field(obj, "status")
	want := countOr(spec, "replicas", 1)
	ready, updated := count(st, "readyReplicas"), count(st, "updatedReplicas")
	if total := count(st, "replicas"); total > want {
		// Scaling down removes one pod at a time, from the highest ordinal.
		return status(Progressing, "waiting for scale-down: "+itoa(total)+" replicas, "+itoa(want)+" wanted")
	}
	strategy := field(spec, "updateStrategy")
	if str(strategy, "type") == "OnDelete" {
		// The controller replaces pods only when someone deletes them: there is no
		// rollout to wait for, only the pods that exist.
		if ready < want {
			return status(Progressing, of(ready, want, "replicas ready"))
		}
		if updated < want {
			return status(Healthy, of(ready, want, "replicas ready; ")+of(updated, want, "updated (OnDelete: pods update when deleted)"))
		}
		return status(Healthy, of(ready, want, "replicas ready"))
	}
	if partition := count(field(strategy, "rollingUpdate"), "partition"); partition > 0 {
		// Only the pods with an ordinal at or above the partition are updated.
		target := max(want-partition, 0)
		if updated < target {
			return status(Progressing, "waiting for partitioned rollout: "+of(updated, target, "replicas above partition "+itoa(partition)+" updated"))
		}
		if ready < want {
			return status(Progressing, of(ready, want, "replicas ready"))
		}
		return status(Healthy, "partitioned rollout complete: "+of(updated, want, "replicas updated (partition "+itoa(partition)+")"))
	}
	if ready < want {
		return status(Progressing, "waiting for rollout: "+of(ready, want, "replicas ready"))
	}
	if updated < want {
		return status(Progressing, "waiting for rollout: "+of(updated, want, "replicas updated"))
	}
	if cur, upd := str(st, "currentRevision"), str(st, "updateRevision"); upd != "" && cur != upd {
		return status(Progressing, "waiting for rollout to finish: revision "+upd+" not yet current")
	}
	if available, ok := integer(st, "availableReplicas"); ok && available < want {
		return status(Progressing, "waiting for rollout: "+of(available, want, "replicas available"))
	}
	return status(Healthy, of(ready, want, "replicas ready"))
}

func daemonSet(obj map[string]any) Status {
	if ok, msg := observed(obj, true); !ok {
		return status(Progressing, msg)
	}
	spec, st := field(obj, "spec"), field(obj, "status")
	desired := count(st, "desiredNumberScheduled")
	updated, available := count(st, "updatedNumberScheduled"), count(st, "numberAvailable")
	if str(field(spec, "updateStrategy"), "type") != "OnDelete" && updated < desired {
		return status(Progressing, "waiting for rollout: "+of(updated, desired, "pods updated"))
	}
	if available < desired {
		return status(Progressing, "waiting for rollout: "+of(available, desired, "pods available"))
	}
	if mis := count(st, "numberMisscheduled"); mis > 0 {
		return status(Progressing, itoa(mis)+" pods running on nodes they should not")
	}
	return status(Healthy, of(available, desired, "pods available"))
}

// replicaSet also serves ReplicationControllers, whose status has the same fields.
func replicaSet(obj map[string]any) Status {
	if ok, msg := observed(obj, true); !ok {
		return status(Progressing, msg)
	}
	spec, st := field(obj, "spec"), field(obj, "status")
	want := countOr(spec, "replicas", 1)
	if available := count(st, "availableReplicas"); available < want {
		return status(Progressing, replicaFailure(st)+of(available, want, "replicas available"))
	}
	return status(Healthy, of(want, want, "replicas available"))
}
