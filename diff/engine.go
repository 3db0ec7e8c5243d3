package diff

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
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
	// Replace predicts a replace (an update of the whole object, as `kubectl
	// replace`; Argo CD's Replace=true) instead of an apply. Only the [Server]
	// engine predicts it; the [Offline] engine predicts an apply.
	Replace bool
	// SkipValidation predicts a write with field validation Ignore (Argo CD's
	// Validate=false): fields the schema does not know are dropped, not refused.
	SkipValidation bool
}

// parsedEngine is an engine that can take Live's managedFields already parsed
// and migrated, which the Differ reads anyway: on a steady-state set, reading
// them is a large share of the work.
type parsedEngine interface {
	predictParsed(ctx context.Context, req Request, managers fieldpath.ManagedFields) (*Prediction, error)
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
	// Typing says which schema typed the object; empty when typing is the
	// server's own ([Server]).
	Typing Typing
}

// Typing says where the schema that typed an object's merge came from: it
// decides which lists merge item by item and which values are atomic, so it says
// how far an offline prediction can be trusted.
type Typing string

const (
	// TypingCluster is the cluster's OpenAPI documents ([ClusterSchemas]).
	TypingCluster Typing = "cluster"
	// TypingStatic is another [SchemaSource] given to [NewOffline], such as
	// [StaticSchemas].
	TypingStatic Typing = "static"
	// TypingBuiltin is the schemas of the built-in kinds shipped with this
	// package, for the Kubernetes version it is built against.
	TypingBuiltin Typing = "built-in"
	// TypingCRDManifest is the schema of a CustomResourceDefinition manifest in
	// the desired set or in [OfflineOptions.CRDs].
	TypingCRDManifest Typing = "crd-manifest"
	// TypingDeduced is no schema: types deduced from the values, every list
	// atomic. The change carries a warning.
	TypingDeduced Typing = "deduced"
)
