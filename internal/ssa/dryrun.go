package ssa

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Options are those of one server-side apply.
type Options struct {
	// FieldManager applies the object.
	FieldManager string
	// Force takes fields other managers own.
	Force bool
	// CSA are the client-side apply managers whose fields are migrated to
	// FieldManager before the apply (see [Migrate]).
	CSA sets.Set[string]
	// SkipValidation writes with field validation Ignore (see [FieldValidation]).
	SkipValidation bool
}

// DryRun returns the object that a server-side apply of obj through res would
// store, without writing: a dry-run apply, corrected for the migration that the
// apply does first when the object holds fields of client-side apply managers.
//
// The API server cannot dry-run the migration and the apply in one request (an
// apply request may not carry managedFields), so DryRun does what the migration
// changes on top of a plain dry-run apply: conflicts with client-side apply
// managers go (their fields become ours), and the fields they owned that the apply
// no longer declares and nobody else owns are removed; the result is then sent as a
// dry-run update, so that the server defaults, admits and validates it as the apply
// would. Errors are the API server's, with conflicts with client-side apply
// managers left out.
func DryRun(ctx context.Context, res dynamic.ResourceInterface, obj *unstructured.Unstructured, o Options) (*unstructured.Unstructured, error) {
	apply := func(force bool) (*unstructured.Unstructured, error) {
		f := o
		f.Force = force
		return Apply(ctx, res, obj, f, true)
	}
	out, err := apply(o.Force)
	if err != nil && !o.Force && len(o.CSA) > 0 && apierrors.IsConflict(err) {
		if err = withoutManagers(err, o.CSA); err == nil {
			// Every conflict is with a manager whose fields the migration makes ours.
			out, err = apply(true)
		}
	}
	if err != nil || !HasCSA(out, o.CSA) {
		return out, err
	}
	gone, err := released(out, o.CSA)
	if err != nil || gone.Empty() {
		return out, err
	}
	next := out.DeepCopy()
	gone.Iterate(func(p fieldpath.Path) { next.Object = removePath(next.Object, p).(map[string]any) })
	unstructured.RemoveNestedField(next.Object, "metadata", "managedFields")
	return res.Update(ctx, next, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: o.FieldManager,
		FieldValidation: FieldValidation(o.SkipValidation)})
}

// ConflictManager returns the field manager a conflict cause of an apply names
// ("conflict with \"kubectl-edit\" using v1"), or "".
func ConflictManager(c metav1.StatusCause) string {
	_, rest, ok := strings.Cut(c.Message, `conflict with "`)
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return name
}

// withoutManagers returns the conflict err without the causes that name one of
// managers, or nil when no cause is left.
func withoutManagers(err error, managers sets.Set[string]) error {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return err
	}
	st := status.Status()
	details := *st.Details
	details.Causes = nil
	var msgs []string
	for _, c := range st.Details.Causes {
		if c.Type == metav1.CauseTypeFieldManagerConflict && managers.Has(ConflictManager(c)) {
			continue
		}
		details.Causes = append(details.Causes, c)
		msgs = append(msgs, c.Message+": "+c.Field)
	}
	if len(details.Causes) == len(st.Details.Causes) {
		return err
	}
	if len(details.Causes) == 0 {
		return nil
	}
	st.Details = &details
	st.Message = fmt.Sprintf("Apply failed with %d conflict(s): %s", len(msgs), strings.Join(msgs, "\n"))
	return &apierrors.StatusError{ErrStatus: st}
}

// ImmutableFields returns the fields an apply's Invalid error says may not change
// ("spec.template"), or nil for any other error.
func ImmutableFields(err error) []string {
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) || status.Status().Details == nil {
		return nil
	}
	var fields []string
	for _, c := range status.Status().Details.Causes {
		if strings.Contains(c.Message, "immutable") || strings.Contains(c.Message, "may not change once set") {
			fields = append(fields, c.Field)
		}
	}
	return fields
}
