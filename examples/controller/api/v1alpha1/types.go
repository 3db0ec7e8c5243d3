// Package v1alpha1 is the GitSync API of the example controller: a Git repository,
// a path in it, how often to sync and whether to prune, and a status that says
// what was applied.
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of GitSync.
var GroupVersion = schema.GroupVersion{Group: "gitopskit.io", Version: "v1alpha1"}

// AddToScheme registers GitSync and GitSyncList in a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &GitSync{}, &GitSyncList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// Condition types of a GitSync, following kstatus conventions.
const (
	// ConditionReady is True when the last pass applied the revision and the set
	// is healthy.
	ConditionReady = "Ready"
	// ConditionReconciling is True while a pass runs and while the applied set
	// waits to become healthy.
	ConditionReconciling = "Reconciling"
)

// Finalizer is set on every GitSync, so that deleting one first prunes the
// objects it applied (spec.prune) or orphans them (without prune).
const Finalizer = "gitopskit.io/gitsync"

// GitSync keeps the objects of a directory of a Git repository applied.
type GitSync struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GitSyncSpec   `json:"spec"`
	Status GitSyncStatus `json:"status,omitempty"`
}

// GitSyncSpec is what to sync.
type GitSyncSpec struct {
	// URL is the repository (https://, http://, ssh://, git://).
	URL string `json:"url"`
	// Ref selects the commit; empty means the remote's default branch.
	Ref GitRef `json:"ref,omitempty"`
	// Path is the directory to apply (plain YAML, kustomization or Helm chart).
	Path string `json:"path,omitempty"`
	// Interval is the time between passes.
	Interval metav1.Duration `json:"interval"`
	// Prune deletes objects whose manifests were removed, and every object the
	// GitSync applied when it is deleted; without it they are left in place.
	Prune bool `json:"prune,omitempty"`
	// Timeout bounds a pass and the wait for the applied objects to become healthy
	// (default one minute).
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// ServiceAccountName, when set, names a ServiceAccount of the GitSync's
	// namespace that the controller impersonates to diff, apply, prune and read
	// health, so the objects are limited to what it may do. Without it the
	// controller uses its own rights.
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// Decryption decrypts SOPS-encrypted files as they are rendered, as Flux's
	// Kustomization spec.decryption does.
	Decryption *Decryption `json:"decryption,omitempty"`
}

// Decryption says how to decrypt the repository's encrypted files.
type Decryption struct {
	// Provider is "sops", the only one.
	Provider string `json:"provider"`
	// SecretRef names a Secret of the GitSync's namespace holding the keys:
	// entries named *.agekey hold age identities, *.asc armored OpenPGP private
	// keys. The controller reads it with its own rights at every pass, so a
	// rotated key is used at the next one.
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
}

// LocalObjectReference names an object in the GitSync's namespace.
type LocalObjectReference struct {
	Name string `json:"name"`
}

// GitRef selects a commit, as Flux's GitRepository does: at most one of Branch,
// Tag and SemVer; Commit alone or with Branch.
type GitRef struct {
	Branch string `json:"branch,omitempty"`
	Tag    string `json:"tag,omitempty"`
	// SemVer is a version range; the highest matching tag is followed.
	SemVer string `json:"semver,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// GitSyncStatus is what the controller did.
type GitSyncStatus struct {
	// ObservedGeneration is the generation the status describes.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions are Ready and Reconciling.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LastAttemptedRevision is the revision of the last pass.
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`
	// LastAppliedRevision is the last revision applied completely and found
	// healthy. A restarted controller reads it back.
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`
	// Inventory lists the objects of the applied set ("group/Kind/namespace/name").
	Inventory []string `json:"inventory,omitempty"`
}

// GitSyncList is a list of GitSyncs.
type GitSyncList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitSync `json:"items"`
}

// DeepCopyInto copies s into out.
func (s *GitSyncSpec) DeepCopyInto(out *GitSyncSpec) {
	*out = *s
	if s.Timeout != nil {
		t := *s.Timeout
		out.Timeout = &t
	}
	if s.Decryption != nil {
		d := *s.Decryption
		if d.SecretRef != nil {
			ref := *d.SecretRef
			d.SecretRef = &ref
		}
		out.Decryption = &d
	}
}

// DeepCopyInto copies s into out.
func (s *GitSyncStatus) DeepCopyInto(out *GitSyncStatus) {
	*out = *s
	if s.Conditions != nil {
		out.Conditions = make([]metav1.Condition, len(s.Conditions))
		for i := range s.Conditions {
			s.Conditions[i].DeepCopyInto(&out.Conditions[i])
		}
	}
	if s.Inventory != nil {
		out.Inventory = append([]string(nil), s.Inventory...)
	}
}

// DeepCopyInto copies g into out.
func (g *GitSync) DeepCopyInto(out *GitSync) {
	*out = *g
	out.TypeMeta = g.TypeMeta
	g.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	g.Spec.DeepCopyInto(&out.Spec)
	g.Status.DeepCopyInto(&out.Status)
}

// DeepCopy returns a copy of g.
func (g *GitSync) DeepCopy() *GitSync {
	if g == nil {
		return nil
	}
	out := new(GitSync)
	g.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (g *GitSync) DeepCopyObject() runtime.Object { return g.DeepCopy() }

// DeepCopyInto copies l into out.
func (l *GitSyncList) DeepCopyInto(out *GitSyncList) {
	*out = *l
	l.ListMeta.DeepCopyInto(&out.ListMeta)
	if l.Items != nil {
		out.Items = make([]GitSync, len(l.Items))
		for i := range l.Items {
			l.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
}

// DeepCopyObject implements runtime.Object.
func (l *GitSyncList) DeepCopyObject() runtime.Object {
	if l == nil {
		return nil
	}
	out := new(GitSyncList)
	l.DeepCopyInto(out)
	return out
}
