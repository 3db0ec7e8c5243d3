package diff

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
)

// Action is what applying the desired state would do to one object.
type Action int

const (
	// None means live already matches what an apply would produce.
	None Action = iota
	// Create means the object does not exist yet.
	Create
	// Update means an apply would change the live object.
	Update
	// Delete means the object is a prune candidate: the inventory owns it and the
	// desired set no longer declares it.
	Delete
)

var actionNames = [...]string{None: "None", Create: "Create", Update: "Update", Delete: "Delete"}

// String returns the action's name, for example "Update".
func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return fmt.Sprintf("Action(%d)", int(a))
	}
	return actionNames[a]
}

// MarshalText encodes the action as its name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText decodes an action from its name.
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown action %q", b)
}

// Change is the difference for one object.
//
// Live and Predicted are normalized (server-populated metadata, status and ignored
// fields removed) and never masked: they hold Secret values in clear. Renderers mask
// them; callers that print or log them must not.
type Change struct {
	// ID names the object.
	ID object.ID
	// Action is what an apply would do.
	Action Action
	// Origin is where the desired object was declared, when [Input.Origins] said;
	// the zero Origin for Delete.
	Origin object.Origin
	// Paths lists, sorted, the fields an apply would add, change or remove, in the
	// form ".spec.template.spec.containers[name=\"web\"].image". An added or removed
	// subtree is reported once, at its root. Empty for Create, Delete and None.
	Paths []string
	// Foreign lists, sorted, the fields of live that managers other than ours own
	// and that the last apply did not declare (an HPA's ".spec.replicas"), in
	// structured-merge-diff path syntax. They are not drift unless
	// [Options.ReportForeign] is set.
	Foreign []string
	// Recreate says that the apply deletes the object and creates it again
	// (Update only): an immutable field changes and [Options.Recreate] or the
	// object's gitopskit.io/recreate annotation allows it.
	Recreate bool
	// Reason, for None, says why an apply leaves the object alone though it
	// may differ: its annotations say so (Flux's reconcile: disabled, ssa: Ignore,
	// ssa: IfNotPresent on an object that exists; see apply.Directives.Skip), or it
	// left the set, prune keeps it and it is annotated IgnoreExtraneous (see
	// apply.Directives.Kept). The apply reports such an object as skipped.
	Reason string
	// Warnings says where the result may be less precise, for example a kind the
	// offline engine had no schema for.
	Warnings []string
	// Typing says which schema the offline engine typed the object with (see
	// [Typing]); empty for the [Server] engine.
	Typing Typing
	// Live is the normalized live object; nil for Create.
	Live *unstructured.Unstructured
	// Predicted is the normalized object an apply would leave; nil for Delete.
	Predicted *unstructured.Unstructured
}

// Changed reports whether the change is anything but [None].
func (c *Change) Changed() bool { return c.Action != None }
