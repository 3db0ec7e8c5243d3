package health

// Code is the health of an object, from the point of view of someone waiting for it
// to do its job.
type Code string

// The health codes. Their order of severity, used by [Worst], is Degraded, Missing,
// Unknown, Progressing, Suspended, Healthy.
const (
	// Healthy: the object's controller has observed its latest spec and the object
	// does what it declares (a Deployment's new pods are available, a Job completed).
	Healthy Code = "Healthy"
	// Progressing: the object is on its way to Healthy (a rollout, a pending claim,
	// a controller that has not yet observed the latest generation).
	Progressing Code = "Progressing"
	// Degraded: the object failed or will not get better by itself (a Job failed, a
	// rollout exceeded its progress deadline, a container crash-loops).
	Degraded Code = "Degraded"
	// Suspended: the object was told to stand still (a paused Deployment, a
	// suspended Job or CronJob). It will not progress until someone resumes it.
	Suspended Code = "Suspended"
	// Missing: the object does not exist in the cluster.
	Missing Code = "Missing"
	// Unknown: the health cannot be told (no object, or a status nobody understands).
	Unknown Code = "Unknown"
)

// severity orders codes for Worst: higher is worse.
func (c Code) severity() int {
	switch c {
	case Healthy:
		return 0
	case Suspended:
		return 1
	case Progressing:
		return 2
	case Unknown:
		return 3
	case Missing:
		return 4
	case Degraded:
		return 5
	}
	return 3 // an unrecognised code is as bad as Unknown
}

// Valid reports whether c is one of the six codes.
func (c Code) Valid() bool {
	switch c {
	case Healthy, Progressing, Degraded, Suspended, Missing, Unknown:
		return true
	}
	return false
}

// Done reports whether waiting for an object with this code is over with success:
// it is Healthy, or Suspended and so will not change by itself.
func (c Code) Done() bool { return c == Healthy || c == Suspended }

// Status is the health of an object: a code and a message a person understands,
// such as "2 of 3 replicas updated" or "Job failed: BackoffLimitExceeded".
type Status struct {
	Code    Code   `json:"code"`
	Message string `json:"message,omitempty"`
}

// String returns "Code: message", or the code alone when there is no message.
func (s Status) String() string {
	if s.Message == "" {
		return string(s.Code)
	}
	return string(s.Code) + ": " + s.Message
}

// Worst returns the most severe of codes, or Healthy when there are none.
func Worst(codes ...Code) Code {
	worst := Healthy
	for _, c := range codes {
		if c.severity() > worst.severity() {
			worst = c
		}
	}
	return worst
}

func status(c Code, msg string) Status { return Status{Code: c, Message: msg} }
