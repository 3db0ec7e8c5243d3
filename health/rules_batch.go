package health

func job(obj map[string]any) Status {
	spec, st := field(obj, "spec"), field(obj, "status")
	if c := condition(st, "Failed"); isTrue(c) {
		return status(Degraded, "Job failed"+suffix(str(c, "reason"), str(c, "message")))
	}
	if c := condition(st, "FailureTarget"); isTrue(c) {
		// The controller decided the Job fails and is terminating its pods.
		return status(Degraded, "Job failing"+suffix(str(c, "reason"), str(c, "message")))
	}
	if isTrue(condition(st, "Complete")) {
		return status(Healthy, "Job completed: "+itoa(count(st, "succeeded"))+" succeeded")
	}
	// The controller sets the Suspended condition once it has removed the active
	// pods, and clears it when the Job resumes: until then the Job still changes.
	suspended := isTrue(condition(st, "Suspended"))
	active, succeeded, failed := count(st, "active"), count(st, "succeeded"), count(st, "failed")
	switch suspend := boolean(spec, "suspend"); {
	case suspend && suspended:
		return status(Suspended, "Job is suspended")
	case suspend:
		return status(Progressing, "Job is being suspended: "+itoa(active)+" active pods")
	case suspended:
		return status(Progressing, "Job is resuming")
	}
	msg := "Job running: " + itoa(active) + " active, " + itoa(succeeded) + " succeeded"
	if completions, ok := integer(spec, "completions"); ok {
		msg = "Job running: " + of(succeeded, completions, "completions") + ", " + itoa(active) + " active"
	}
	if failed > 0 {
		msg += ", " + itoa(failed) + " failed"
	}
	return status(Progressing, msg)
}

func cronJob(obj map[string]any) Status {
	if boolean(field(obj, "spec"), "suspend") {
		return status(Suspended, "CronJob is suspended")
	}
	st := field(obj, "status")
	if last := str(st, "lastScheduleTime"); last != "" {
		return status(Healthy, "last scheduled at "+last)
	}
	return status(Healthy, "not yet scheduled")
}
