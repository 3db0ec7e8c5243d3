package apply

import (
	"testing"

	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/types"
)

func TestHolding(t *testing.T) {
	obj := func(group, kind, name string, uid types.UID, owners ...types.UID) resident {
		return resident{id: object.ID{Group: group, Kind: kind, Namespace: "ns", Name: name}, uid: uid, owners: owners}
	}
	deleting := obj("", "ConfigMap", "deleting", "d")
	deleting.deleting = true
	residents := []resident{
		obj("apps", "ReplicaSet", "web-1", "rs", "deploy"), // owned by the pruned Deployment
		obj("", "Pod", "web-1-a", "pod", "rs"),             // owned through the ReplicaSet
		obj("", "Pod", "shared", "pod2", "rs", "kept"),     // one owner stays
		obj("", "Endpoints", "web", "ep"),                  // the pruned Service's
		obj("", "Endpoints", "db", "ep2"),                  // a Service that stays
		obj("", "ConfigMap", "kube-root-ca.crt", "root"),   // in every namespace
		obj("", "ServiceAccount", "default", "sa"),         // in every namespace
		obj("", "ServiceAccount", "builder", "sa2"),        // someone's
		obj("", "PersistentVolumeClaim", "data", "pvc"),    // data, owned by no one
		deleting,
	}
	uids := map[types.UID]bool{"deploy": true}
	ids := object.NewSet(object.ID{Group: "apps", Kind: "Deployment", Namespace: "ns", Name: "web"}, object.ID{Kind: "Service", Namespace: "ns", Name: "web"})

	names := func(held []object.ID) []string {
		var out []string
		for _, id := range held {
			out = append(out, id.Kind+"/"+id.Name)
		}
		return out
	}
	assert.Equal(t, []string{"Endpoints/db", "PersistentVolumeClaim/data", "Pod/shared", "ServiceAccount/builder"},
		names(holding(residents, uids, ids, true)))
	// Orphaned dependents stay.
	assert.Equal(t, []string{"Endpoints/db", "PersistentVolumeClaim/data", "Pod/shared", "Pod/web-1-a", "ServiceAccount/builder", "ReplicaSet/web-1"},
		names(holding(residents, uids, ids, false)))
	assert.Empty(t, holding(nil, uids, ids, true))
}
