package apply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// A user who may write ConfigMaps but not list them still gets the apply done; the
// result says that objects were written without comparing.
func TestListForbiddenWarns(t *testing.T) {
	e := newEnv(t, apply.Options{})
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(cluster.Config(t))
	_, err := admin.RbacV1().Roles(e.ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "write-only"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "create", "patch"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = admin.RbacV1().RoleBindings(e.ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "write-only"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "write-only"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "write-only-user"}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	cfg := cluster.Config(t)
	cfg.Impersonate.UserName = "write-only-user"
	m, err := apply.NewForConfig(cfg, apply.Options{})
	require.NoError(t, err)
	objs := e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: NS}\ndata: {k: v}\n")
	res, err := m.Apply(ctx, objs, apply.ApplyOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Count(apply.Created)+res.Count(apply.Configured))
	require.Len(t, res.Warnings, 1)
	assert.Contains(t, res.Warnings[0], "configmaps")
	assert.True(t, strings.Contains(res.Warnings[0], "forbidden"), res.Warnings[0])
}
