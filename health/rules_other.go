package health

import "encoding/json"

func ingress(obj map[string]any) Status {
	// An ingress controller writes the address it serves the Ingress on.
	if len(list(field(field(obj, "status"), "loadBalancer"), "ingress")) == 0 {
		return status(Progressing, "waiting for an ingress controller to assign an address")
	}
	return status(Healthy, "address assigned")
}

// horizontalPodAutoscaler reads the conditions of autoscaling/v2, or the annotation
// autoscaling/v1 keeps them in.
func horizontalPodAutoscaler(obj map[string]any) Status {
	st := field(obj, "status")
	conds := list(st, "conditions")
	if conds == nil {
		if raw := str(field(field(obj, "metadata"), "annotations"), "autoscaling.alpha.kubernetes.io/conditions"); raw != "" {
			_ = json.Unmarshal([]byte(raw), &conds) // a broken annotation reads as no conditions
			st = map[string]any{"conditions": conds}
		}
	}
	if conds == nil {
		return status(Progressing, "waiting for the autoscaler to observe the HorizontalPodAutoscaler")
	}
	if c := condition(st, "AbleToScale"); isFalse(c) {
		return status(Degraded, "cannot scale: "+explain(c))
	}
	if c := condition(st, "ScalingActive"); isFalse(c) {
		if str(c, "reason") == "ScalingDisabled" {
			return status(Suspended, "scaling disabled: "+str(c, "message"))
		}
		return status(Degraded, "scaling inactive: "+explain(c))
	}
	if c := condition(st, "ScalingLimited"); isTrue(c) {
		return status(Healthy, "scaling limited: "+explain(c))
	}
	return status(Healthy, itoa(count(st, "currentReplicas"))+" replicas, desired "+itoa(count(st, "desiredReplicas")))
}

func podDisruptionBudget(obj map[string]any) Status {
	if ok, msg := observed(obj, true); !ok {
		return status(Progressing, msg)
	}
	st := field(obj, "status")
	if c := condition(st, "DisruptionAllowed"); isFalse(c) && str(c, "reason") == "SyncFailed" {
		return status(Degraded, "budget not computed: "+explain(c))
	}
	healthy, desired := count(st, "currentHealthy"), count(st, "desiredHealthy")
	if healthy < desired {
		return status(Progressing, of(healthy, desired, "required pods healthy"))
	}
	return status(Healthy, itoa(count(st, "disruptionsAllowed"))+" disruptions allowed")
}

func customResourceDefinition(obj map[string]any) Status {
	st := field(obj, "status")
	if c := condition(st, "NamesAccepted"); isFalse(c) {
		return status(Degraded, "names not accepted: "+explain(c))
	}
	if c := condition(st, "Established"); isTrue(c) {
		return status(Healthy, "established")
	} else if c != nil {
		return status(Progressing, "not yet established"+suffix(str(c, "reason"), str(c, "message")))
	}
	return status(Progressing, "not yet established")
}

func apiService(obj map[string]any) Status {
	c := condition(field(obj, "status"), "Available")
	if isTrue(c) {
		return status(Healthy, "available")
	}
	// An unavailable APIService is usually waiting for the pods behind its Service:
	// the aggregator keeps checking, so this is not final.
	if c != nil {
		return status(Progressing, "not available: "+explain(c))
	}
	return status(Progressing, "not yet checked by the aggregator")
}
