package diff

import (
	"context"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Request is one object for an [Engine] to predict.
type Request struct {
	// Desired is the object as declared. It is not modified.
	Desired *unstructured.Unstructured
	// Live is the object in the cluster, with its managedFields, or nil when it
	// does not exist.
	Live *unstructured.Unstructured
	// FieldManager is the server-side apply field manager.
	FieldManager string
	// Force takes ownership of fields other managers own, as apply --force-conflicts.
	Force bool
	// CSAManagers are the client-side apply managers whose fields the apply
	// migrates to FieldManager first ([Options.CSAManagers]; nil means apply's
	// default). Live is as found, before the migration.
	CSAManagers []string
	// Recreate allows the apply to delete and recreate the object when an
	// immutable field changes.
	Recreate bool

	// managers is Live's managedFields, parsed and migrated, when the Differ has
	// read them.
	managers fieldpath.ManagedFields
}

// Engine predicts the object the API server would store if Desired were applied
// over Live with server-side apply. Implementations must be safe for concurrent use
// and must not write to the cluster.
//
// [Server] asks the API server (a dry-run apply, the ground truth); [Offline]
// computes the result locally from OpenAPI schemas (the fast path).
type Engine interface {
	Predict(ctx context.Context, req Request) (*Prediction, error)
}

// Prediction is an [Engine]'s answer.
type Prediction struct {
	// Object is the object an apply would leave, with server-populated fields as
	// the engine knows them.
	Object *unstructured.Unstructured
	// Warnings says where the prediction may be imprecise.
	Warnings []string
	// Recreate says that the apply deletes the object and creates it again,
	// because an immutable field changes and [Request.Recreate] allows it.
	Recreate bool
}
