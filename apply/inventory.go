package apply

import (
	"context"

	"github.com/gitopskit/gitopskit/object"
)

// Inventory records which objects a set owns, so that objects leaving the set can be
// pruned. [ApplySet] is the default; callers can keep the list elsewhere (a custom
// resource's status, a database) by implementing these three methods.
//
// [Manager.Apply] calls Load once, Store with the union of the loaded and desired
// members before it writes anything (so an interrupted apply leaves no untracked
// object), and Store with the final members after a successful apply and prune.
// An inventory stored in an object says so with a Parent() object.ID method, as
// [ApplySet] has: [ApplyOptions.CreateNamespace] then creates the parent's
// namespace too.
type Inventory interface {
	// Labels returns the labels that mark an object as a member. Apply sets them on
	// every object; prune deletes only live objects that carry all of them, so an
	// inventory that prunes must return at least one.
	Labels() map[string]string
	// Load returns the members recorded by the last Store; none when there was none.
	Load(ctx context.Context) ([]object.ID, error)
	// Store records members as the set.
	Store(ctx context.Context, members []object.ID) error
}
