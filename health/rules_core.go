package health

// failingReasons are the reasons the kubelet gives a waiting container that will not
// start without a change: a bad image, a bad configuration, a crash loop.
func failingReason(reason string) bool {
	switch reason {
	case "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
		"ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError", "RunContainerError":
		return true
	}
	return false
}

func pod(obj map[string]any) Status {
	spec, st := field(obj, "spec"), field(obj, "status")
	restart := str(spec, "restartPolicy")
	if restart == "" {
		restart = "Always"
	}
	switch str(st, "phase") {
	case "Succeeded":
		return status(Healthy, "Pod completed")
	case "Failed":
		return status(Degraded, "Pod failed"+suffix(str(st, "reason"), str(st, "message")))
	case "Unknown":
		return status(Unknown, "Pod state unknown"+suffix(str(st, "reason"), str(st, "message")))
	}
	// Init containers run one after the other before any app container.
	inits := list(st, "initContainerStatuses")
	for i, c := range inits {
		cs, _ := c.(map[string]any)
		if s, bad := containerFailing(cs, restart, "init container "); bad {
			return s
		}
		state := field(cs, "state")
		if field(state, "terminated") == nil && !boolean(cs, "started") {
			// Not yet through: a sidecar (restartPolicy Always) counts as done once started.
			return status(Progressing, "waiting for init container "+str(cs, "name")+" ("+itoa(int64(i+1))+" of "+itoa(int64(len(inits)))+")")
		}
	}
	var ready, total int64
	for _, c := range list(st, "containerStatuses") {
		cs, _ := c.(map[string]any)
		total++
		if boolean(cs, "ready") {
			ready++
		}
		if s, bad := containerFailing(cs, restart, "container "); bad {
			return s
		}
	}
	if c := condition(st, "PodScheduled"); isFalse(c) {
		return status(Progressing, "Pod not scheduled: "+explain(c))
	}
	if restart != "Always" {
		// A Pod that runs to completion is healthy when it completed.
		if str(st, "phase") == "Running" {
			return status(Progressing, "Pod running, not yet completed")
		}
		return status(Progressing, "Pod "+lower(str(st, "phase")))
	}
	if isTrue(condition(st, "Ready")) {
		return status(Healthy, "Pod ready")
	}
	if total == 0 {
		return status(Progressing, "Pod "+lower(str(st, "phase")))
	}
	return status(Progressing, of(ready, total, "containers ready"))
}

// containerFailing reports a container that will not get better by itself.
func containerFailing(cs map[string]any, restart, what string) (Status, bool) {
	name := str(cs, "name")
	state := field(cs, "state")
	if w := field(state, "waiting"); w != nil && failingReason(str(w, "reason")) {
		return status(Degraded, what+name+": "+str(w, "reason")+suffix("", str(w, "message"))), true
	}
	t := field(state, "terminated")
	if t != nil && restart == "Never" && count(t, "exitCode") != 0 {
		return status(Degraded, what+name+" failed: exit code "+itoa(count(t, "exitCode"))+suffix(str(t, "reason"), str(t, "message"))), true
	}
	// Between two restarts of a crash loop, before the back-off shows as
	// CrashLoopBackOff, the container is terminated or running again but not ready,
	// and the kubelet counts the restart.
	if restart != "Never" && !boolean(cs, "ready") && count(cs, "restartCount") > 0 {
		if t == nil {
			t = field(field(cs, "lastState"), "terminated")
		}
		if code := count(t, "exitCode"); code != 0 {
			return status(Degraded, what+name+" is crash-looping: exit code "+itoa(code)+suffix(str(t, "reason"), str(t, "message"))+
				" (restart count "+itoa(count(cs, "restartCount"))+")"), true
		}
	}
	return Status{}, false
}

// suffix formats an optional reason and message as ": reason: message".
func suffix(reason, msg string) string {
	switch {
	case reason != "" && msg != "":
		return ": " + reason + ": " + msg
	case reason != "":
		return ": " + reason
	case msg != "":
		return ": " + msg
	}
	return ""
}

func lower(phase string) string {
	switch phase {
	case "":
		return "pending"
	case "Pending":
		return "pending"
	case "Running":
		return "running"
	}
	return phase
}

func persistentVolumeClaim(obj map[string]any) Status {
	switch phase := str(field(obj, "status"), "phase"); phase {
	case "Bound":
		return status(Healthy, "claim is bound")
	case "Lost":
		return status(Degraded, "claim lost its volume")
	case "", "Pending":
		return status(Progressing, "claim is pending")
	default:
		return status(Unknown, "claim phase "+phase)
	}
}

func service(obj map[string]any) Status {
	if str(field(obj, "spec"), "type") != "LoadBalancer" {
		return status(Healthy, "")
	}
	if len(list(field(field(obj, "status"), "loadBalancer"), "ingress")) == 0 {
		return status(Progressing, "waiting for a load balancer address")
	}
	return status(Healthy, "load balancer ready")
}

func namespace(obj map[string]any) Status {
	st := field(obj, "status")
	if str(st, "phase") == "Terminating" {
		for _, t := range []string{"NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure", "NamespaceDeletionContentFailure"} {
			if c := condition(st, t); isTrue(c) {
				return status(Degraded, "Namespace is stuck terminating: "+explain(c))
			}
		}
		return status(Progressing, "Namespace is terminating")
	}
	return status(Healthy, "")
}
