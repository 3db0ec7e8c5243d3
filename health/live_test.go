package health_test

import (
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/live"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// liveWaiter replaces the env's waiter with one that follows a live.Cache.
func (e *env) liveWaiter(opts health.WaiterOptions) {
	clients, err := kube.NewForConfig(e.cfg, kube.Options{})
	require.NoError(e.t, err)
	c := live.New(clients, live.Options{})
	e.t.Cleanup(c.Stop)
	opts.Live = c
	e.waiter = health.NewWaiter(clients.Dynamic, clients.Mapper, opts)
}

// TestWaitFollowsLive: a Waiter following a live.Cache keeps the semantics of
// its own watches: a custom resource waits for its first status, within the
// StatusGracePeriod's timer; an object that does not exist, or is deleted while
// waiting, is Missing, and so is a kind the cluster does not serve.
func TestWaitFollowsLive(t *testing.T) {
	e := newEnv(t)
	newGadget := e.customResources("Gadget", true)
	assessor, err := health.NewAssessor(health.Options{StatusGracePeriod: 2 * time.Second})
	require.NoError(t, err)
	e.liveWaiter(health.WaiterOptions{Assessor: assessor})

	quiet := newGadget("quiet")
	res, events, err := e.wait(health.WaitOptions{}, quiet)
	require.NoError(t, err)
	assert.Equal(t, health.Healthy, res.Objects[quiet].Code)
	assert.True(t, saw(events, health.Progressing, "to write its status (for up to 2s after creation)"), "%v", events)

	cm := e.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: doomed}\ndata: {a: b}\n")
	absent := object.ID{Kind: "ConfigMap", Namespace: e.ns, Name: "absent"}
	unserved := object.ID{Group: "nowhere.example.com", Kind: "Nothing", Namespace: e.ns, Name: "n"}
	cms := e.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(e.ns)
	res, _, err = e.wait(health.WaitOptions{Timeout: 5 * time.Second, Progress: func(ev health.Event) {
		if ev.ID == cm && ev.Status.Code == health.Healthy {
			require.NoError(t, cms.Delete(e.ctx, cm.Name, metav1.DeleteOptions{}))
		}
	}}, cm, absent, unserved)
	require.ErrorIs(t, err, health.ErrTimeout)
	assert.Equal(t, health.Status{Code: health.Missing, Message: "deleted"}, res.Objects[cm])
	assert.Equal(t, health.Status{Code: health.Missing, Message: "not found"}, res.Objects[absent])
	assert.Equal(t, health.Missing, res.Objects[unserved].Code)
}
