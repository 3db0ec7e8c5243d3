package diff_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// generator writes random but valid manifests of the built-in kinds. Two random
// sources drive it: content (what the object means) and spelling (how the
// manifest writes it: quantities as strings or numbers, integers as floats, empty
// maps and lists or none, nulls). Generating with the same content seed and two
// spelling seeds gives two manifests of the same object.
type generator struct {
	c, s *rand.Rand
	ns   string
	id   int
	// addDefaults spells out, sometimes, defaults the content leaves out.
	addDefaults bool
}

func newGenerator(ns string, id int, contentSeed, spellingSeed uint64) *generator {
	return &generator{c: rand.New(rand.NewPCG(contentSeed, 1)), s: rand.New(rand.NewPCG(spellingSeed, 2)), ns: ns, id: id}
}

func (g *generator) chance(p float64) bool { return g.c.Float64() < p }
func (g *generator) spell(p float64) bool  { return g.s.Float64() < p }
func (g *generator) pick(n int) int        { return g.c.IntN(n) }

func pickOf[T any](g *generator, l []T) T { return l[g.pick(len(l))] }

// quantity is a canonical quantity and other ways to write it that the server
// stores as the same string.
type quantity []any

var (
	cpus = []quantity{
		{"100m", 0.1, "0.1"}, {"250m", 0.25, "0.25"}, {"500m", 0.5, "0.5", "500m"},
		{"1", int64(1), float64(1), "1000m"}, {"1500m", 1.5, "1.5"}, {"2", int64(2), "2000m"},
	}
	memories = []quantity{
		{"64Mi", "65536Ki", "0.0625Gi"}, {"128Mi", "0.125Gi"}, {"1Gi", "1024Mi"},
		{"1k", float64(1e3), int64(1000), "1000"}, {"500M", float64(5e8), "500000k"},
	}
	storages = []quantity{{"1Gi", "1024Mi"}, {"512Mi", "0.5Gi"}, {"10Gi", "10240Mi"}, {"2G", float64(2e9)}}
	counts   = []quantity{{"10", int64(10), float64(10)}, {"4", int64(4), "4"}, {"20", int64(20)}}
)

// q writes one of qs, chosen by content, in a spelling.
func (g *generator) q(qs []quantity) any {
	forms := pickOf(g, qs)
	return forms[g.s.IntN(len(forms))]
}

// int writes n as an integer or, sometimes, as the float YAML reads "2.0" as.
func (g *generator) int(n int64) any {
	if g.spell(0.2) {
		return float64(n)
	}
	return n
}

// optMap sets m[k] to v when v has entries; otherwise sometimes to an empty map
// or null, which mean the same.
func (g *generator) optMap(m map[string]any, k string, v map[string]any) {
	switch {
	case len(v) > 0:
		m[k] = v
	case g.spell(0.3):
		m[k] = map[string]any{}
	case g.spell(0.1):
		m[k] = nil
	}
}

// optList is optMap for lists.
func (g *generator) optList(m map[string]any, k string, v []any) {
	switch {
	case len(v) > 0:
		m[k] = v
	case g.spell(0.3):
		m[k] = []any{}
	case g.spell(0.1):
		m[k] = nil
	}
}

// def sets m[k] to the server's default v when the content says to spell
// defaults out, and, when the generator adds defaults, sometimes when it does not.
// A default the applied manifest spelled out is never dropped from the diffed
// one: the server puts it back, which the offline engine cannot know (see
// docs/diff.md); this is the one spelling the corpus leaves out.
func (g *generator) def(m map[string]any, k string, v any) {
	if g.chance(0.4) || g.addDefaults && g.spell(0.3) {
		m[k] = v
	}
}

func (g *generator) name(prefix string) string { return fmt.Sprintf("%s-%d", prefix, g.id) }

func (g *generator) labels(extra map[string]any) map[string]any {
	l := map[string]any{}
	for k, v := range extra {
		l[k] = v
	}
	for i, n := 0, g.pick(3); i < n; i++ {
		l[fmt.Sprintf("l%d", i)] = pickOf(g, []string{"a", "b", "web", "v1"})
	}
	return l
}

func (g *generator) metadata(name string, namespaced bool) map[string]any {
	md := map[string]any{"name": name}
	if namespaced || g.chance(0.4) {
		// A cluster-scoped object with a namespace: the server drops it.
		md["namespace"] = g.ns
	}
	g.optMap(md, "labels", g.labels(nil))
	ann := map[string]any{}
	if g.chance(0.3) {
		ann["example.com/note"] = pickOf(g, []string{"x", "y y", ""})
	}
	g.optMap(md, "annotations", ann)
	return md
}

func manifest(apiVersion, kind string, md map[string]any) map[string]any {
	return map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": md}
}

// generate writes object number g.id.
func (g *generator) generate() *unstructured.Unstructured {
	kinds := []func() map[string]any{
		g.configMap, g.secret, g.serviceAccount, g.service, g.deployment, g.statefulSet, g.daemonSet,
		g.job, g.cronJob, g.role, g.roleBinding, g.clusterRole, g.clusterRoleBinding, g.ingress,
		g.networkPolicy, g.pdb, g.hpa, g.pvc, g.limitRange, g.resourceQuota, g.priorityClass, g.storageClass,
	}
	return &unstructured.Unstructured{Object: kinds[g.id%len(kinds)]()}
}

func (g *generator) configMap() map[string]any {
	o := manifest("v1", "ConfigMap", g.metadata(g.name("cm"), true))
	data := map[string]any{}
	for i, n := 0, g.pick(4); i < n; i++ {
		data[fmt.Sprintf("k%d", i)] = pickOf(g, []string{"v", "1", "true", "", "a: b\n"})
	}
	g.optMap(o, "data", data)
	return o
}

func (g *generator) secret() map[string]any {
	o := manifest("v1", "Secret", g.metadata(g.name("secret"), true))
	g.def(o, "type", "Opaque")
	if g.chance(0.5) {
		o["stringData"] = map[string]any{"password": pickOf(g, []string{"hunter2", "s3cr3t"})}
	} else {
		o["data"] = map[string]any{"token": pickOf(g, []string{"dG9rZW4=", "YWJj"})}
	}
	return o
}

func (g *generator) serviceAccount() map[string]any {
	o := manifest("v1", "ServiceAccount", g.metadata(g.name("sa"), true))
	if g.chance(0.4) {
		o["automountServiceAccountToken"] = g.chance(0.5)
	}
	var secrets []any
	if g.chance(0.3) {
		secrets = append(secrets, map[string]any{"name": "pull"})
	}
	g.optList(o, "imagePullSecrets", secrets)
	return o
}

func (g *generator) port(named bool) any {
	if named {
		return "http"
	}
	return g.int(8080)
}

func (g *generator) service() map[string]any {
	o := manifest("v1", "Service", g.metadata(g.name("svc"), true))
	spec := map[string]any{"selector": map[string]any{"app": g.name("app")}}
	ports := []any{}
	for i, n := 0, 1+g.pick(3); i < n; i++ {
		p := map[string]any{"port": g.int(int64(80 + i)), "name": fmt.Sprintf("p%d", i)}
		if g.chance(0.7) {
			p["targetPort"] = g.port(g.chance(0.3))
		}
		if g.chance(0.3) {
			p["protocol"] = "TCP"
		}
		ports = append(ports, p)
	}
	spec["ports"] = ports
	g.def(spec, "type", "ClusterIP")
	g.def(spec, "sessionAffinity", "None")
	if g.chance(0.2) {
		spec["clusterIP"] = "None"
	}
	g.def(spec, "publishNotReadyAddresses", false)
	o["spec"] = spec
	return o
}

// container writes container number index of a pod.
func (g *generator) container(index int) map[string]any {
	c := map[string]any{"name": fmt.Sprintf("c%d", index), "image": pickOf(g, []string{"nginx:1.27", "busybox:1.36", "registry.example.com/app:v2"})}
	g.def(c, "imagePullPolicy", "IfNotPresent")
	g.def(c, "terminationMessagePath", "/dev/termination-log")
	g.def(c, "terminationMessagePolicy", "File")
	var ports []any
	for i, n := 0, g.pick(3); i < n; i++ {
		p := map[string]any{"containerPort": g.int(int64(8080 + 10*index + i))}
		if g.chance(0.5) {
			p["name"] = fmt.Sprintf("port%d-%d", index, i)
		}
		if g.chance(0.3) {
			p["protocol"] = "TCP"
		}
		if g.chance(0.2) {
			p["hostPort"] = int64(0) // omitted by the server
		}
		ports = append(ports, p)
	}
	g.optList(c, "ports", ports)
	var env []any
	for i, n := 0, g.pick(3); i < n; i++ {
		e := map[string]any{"name": fmt.Sprintf("VAR_%d", i)}
		switch g.pick(3) {
		case 0:
			e["value"] = pickOf(g, []string{"1", "x", ""})
		case 1:
			e["valueFrom"] = map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}
		default:
			ref := map[string]any{"resource": "limits.memory"}
			if g.chance(0.6) {
				ref["divisor"] = g.q([]quantity{{"1Mi", "1024Ki"}, {"1", int64(1)}, {"1k", float64(1e3)}})
			}
			e["valueFrom"] = map[string]any{"resourceFieldRef": ref}
		}
		env = append(env, e)
	}
	g.optList(c, "env", env)
	var args []any
	if g.chance(0.3) {
		args = []any{"--verbose"}
	}
	g.optList(c, "args", args)
	res := map[string]any{}
	req, lim := map[string]any{}, map[string]any{}
	if g.chance(0.7) {
		req["cpu"] = g.q(cpus)
	}
	if g.chance(0.5) {
		req["memory"] = g.q(memories)
	}
	if g.chance(0.4) {
		// Above every request: a limit below its request is invalid.
		lim["memory"] = g.q([]quantity{{"1Gi", "1024Mi"}, {"2Gi", "2048Mi"}})
		lim["cpu"] = g.q([]quantity{{"2", int64(2), "2000m"}, {"4", float64(4)}})
	}
	g.optMap(res, "requests", req)
	g.optMap(res, "limits", lim)
	g.optMap(c, "resources", res)
	if g.chance(0.3) {
		c["readinessProbe"] = map[string]any{"httpGet": map[string]any{"path": "/", "port": g.port(false)}}
	}
	if g.chance(0.2) {
		c["stdin"] = false // omitted by the server
	}
	if g.chance(0.3) {
		c["volumeMounts"] = []any{map[string]any{"name": "scratch", "mountPath": "/scratch"}}
	}
	return c
}

// podSpec writes a pod spec; restart is the restart policy the kind needs ("" for
// the default).
func (g *generator) podSpec(restart string) map[string]any {
	spec := map[string]any{}
	var cs []any
	for i, n := 0, 1+g.pick(2); i < n; i++ {
		cs = append(cs, g.container(i))
	}
	spec["containers"] = cs
	if restart != "" {
		spec["restartPolicy"] = restart
	} else {
		g.def(spec, "restartPolicy", "Always")
	}
	g.def(spec, "dnsPolicy", "ClusterFirst")
	g.def(spec, "schedulerName", "default-scheduler")
	g.def(spec, "terminationGracePeriodSeconds", g.int(30))
	g.def(spec, "hostNetwork", false)
	if g.chance(0.3) {
		spec["securityContext"] = map[string]any{}
	}
	vol := map[string]any{"name": "scratch"}
	if g.chance(0.5) {
		vol["emptyDir"] = map[string]any{"sizeLimit": g.q(storages)}
	} else {
		vol["emptyDir"] = map[string]any{}
	}
	spec["volumes"] = []any{vol}
	g.optMap(spec, "nodeSelector", nil)
	g.optList(spec, "tolerations", nil)
	return spec
}

func (g *generator) template(app, restart string) map[string]any {
	md := map[string]any{"labels": map[string]any{"app": app}}
	if g.spell(0.3) {
		md["creationTimestamp"] = nil // as kubectl create --dry-run writes it
	}
	return map[string]any{"metadata": md, "spec": g.podSpec(restart)}
}

func (g *generator) selector(app string) map[string]any {
	return map[string]any{"matchLabels": map[string]any{"app": app}}
}

func (g *generator) deployment() map[string]any {
	app := g.name("app")
	o := manifest("apps/v1", "Deployment", g.metadata(g.name("deploy"), true))
	spec := map[string]any{"selector": g.selector(app), "template": g.template(app, "")}
	if g.chance(0.7) {
		spec["replicas"] = g.int(int64(g.pick(4)))
	}
	g.def(spec, "revisionHistoryLimit", g.int(10))
	g.def(spec, "progressDeadlineSeconds", g.int(600))
	g.def(spec, "minReadySeconds", int64(0))
	switch g.pick(3) {
	case 0:
		spec["strategy"] = map[string]any{"type": "Recreate"}
	case 1:
		ru := map[string]any{"maxSurge": pickOf(g, []any{"25%", int64(1)}), "maxUnavailable": pickOf(g, []any{"25%", int64(0), "50%"})}
		spec["strategy"] = map[string]any{"type": "RollingUpdate", "rollingUpdate": ru}
	}
	o["spec"] = spec
	return o
}

func (g *generator) statefulSet() map[string]any {
	app := g.name("app")
	o := manifest("apps/v1", "StatefulSet", g.metadata(g.name("sts"), true))
	spec := map[string]any{"selector": g.selector(app), "template": g.template(app, ""), "serviceName": app}
	spec["replicas"] = g.int(1)
	g.def(spec, "podManagementPolicy", "OrderedReady")
	if g.chance(0.6) {
		pvc := map[string]any{"accessModes": []any{"ReadWriteOnce"}, "resources": map[string]any{"requests": map[string]any{"storage": g.q(storages)}}}
		g.def(pvc, "volumeMode", "Filesystem")
		spec["volumeClaimTemplates"] = []any{map[string]any{"metadata": map[string]any{"name": "data"}, "spec": pvc}}
	}
	o["spec"] = spec
	return o
}

func (g *generator) daemonSet() map[string]any {
	app := g.name("app")
	o := manifest("apps/v1", "DaemonSet", g.metadata(g.name("ds"), true))
	spec := map[string]any{"selector": g.selector(app), "template": g.template(app, "")}
	if g.chance(0.5) {
		spec["updateStrategy"] = map[string]any{"type": "OnDelete"}
	}
	o["spec"] = spec
	return o
}

func (g *generator) jobSpec() map[string]any {
	spec := map[string]any{"template": map[string]any{"spec": g.podSpec(pickOf(g, []string{"Never", "OnFailure"}))}}
	g.def(spec, "backoffLimit", g.int(6))
	g.def(spec, "completionMode", "NonIndexed")
	if g.chance(0.4) {
		// Both are 1 when both are left out; one alone is no default.
		spec["completions"], spec["parallelism"] = g.int(1), g.int(1)
	}
	return spec
}

func (g *generator) job() map[string]any {
	o := manifest("batch/v1", "Job", g.metadata(g.name("job"), true))
	o["spec"] = g.jobSpec()
	return o
}

func (g *generator) cronJob() map[string]any {
	o := manifest("batch/v1", "CronJob", g.metadata(g.name("cron"), true))
	spec := map[string]any{"schedule": pickOf(g, []string{"*/5 * * * *", "0 3 * * *"}), "jobTemplate": map[string]any{"spec": g.jobSpec()}}
	g.def(spec, "concurrencyPolicy", "Allow")
	g.def(spec, "suspend", false)
	g.def(spec, "successfulJobsHistoryLimit", g.int(3))
	o["spec"] = spec
	return o
}

func (g *generator) rules() []any {
	var rules []any
	for i, n := 0, 1+g.pick(2); i < n; i++ {
		r := map[string]any{"apiGroups": []any{pickOf(g, []string{"", "apps"})}, "resources": []any{pickOf(g, []string{"pods", "configmaps", "deployments"})}, "verbs": []any{"get", "list"}}
		if g.chance(0.3) {
			r["resourceNames"] = []any{"one"}
		}
		rules = append(rules, r)
	}
	return rules
}

func (g *generator) subjects() []any {
	s := []any{map[string]any{"kind": "ServiceAccount", "name": "default", "namespace": g.ns}}
	if g.chance(0.5) {
		u := map[string]any{"kind": "User", "name": "jane"}
		g.def(u, "apiGroup", "rbac.authorization.k8s.io")
		s = append(s, u)
	}
	return s
}

func (g *generator) role() map[string]any {
	o := manifest("rbac.authorization.k8s.io/v1", "Role", g.metadata(g.name("role"), true))
	o["rules"] = g.rules()
	return o
}

func (g *generator) roleBinding() map[string]any {
	o := manifest("rbac.authorization.k8s.io/v1", "RoleBinding", g.metadata(g.name("rb"), true))
	o["roleRef"] = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
	o["subjects"] = g.subjects()
	return o
}

func (g *generator) clusterRole() map[string]any {
	o := manifest("rbac.authorization.k8s.io/v1", "ClusterRole", g.metadata(g.ns+"-"+g.name("cr"), false))
	o["rules"] = g.rules()
	return o
}

func (g *generator) clusterRoleBinding() map[string]any {
	o := manifest("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", g.metadata(g.ns+"-"+g.name("crb"), false))
	o["roleRef"] = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
	o["subjects"] = g.subjects()
	return o
}

func (g *generator) ingress() map[string]any {
	o := manifest("networking.k8s.io/v1", "Ingress", g.metadata(g.name("ing"), true))
	port := map[string]any{"number": g.int(80)}
	if g.chance(0.3) {
		port = map[string]any{"name": "http"}
	}
	path := map[string]any{"path": "/", "pathType": pickOf(g, []string{"Prefix", "Exact", "ImplementationSpecific"}),
		"backend": map[string]any{"service": map[string]any{"name": "web", "port": port}}}
	o["spec"] = map[string]any{"rules": []any{map[string]any{"host": g.name("h") + ".example.com", "http": map[string]any{"paths": []any{path}}}}}
	return o
}

func (g *generator) networkPolicy() map[string]any {
	o := manifest("networking.k8s.io/v1", "NetworkPolicy", g.metadata(g.name("np"), true))
	spec := map[string]any{"podSelector": map[string]any{}}
	if g.chance(0.5) {
		spec["podSelector"] = g.selector(g.name("app"))
	}
	if g.chance(0.7) {
		p := map[string]any{"port": g.port(g.chance(0.3))}
		if g.chance(0.4) {
			p["protocol"] = "TCP"
		}
		spec["ingress"] = []any{map[string]any{"from": []any{map[string]any{"podSelector": g.selector("client")}}, "ports": []any{p}}}
	}
	g.def(spec, "policyTypes", []any{"Ingress"})
	o["spec"] = spec
	return o
}

func (g *generator) pdb() map[string]any {
	o := manifest("policy/v1", "PodDisruptionBudget", g.metadata(g.name("pdb"), true))
	spec := map[string]any{"selector": g.selector(g.name("app"))}
	if g.chance(0.5) {
		spec["minAvailable"] = pickOf(g, []any{int64(1), "50%"})
	} else {
		spec["maxUnavailable"] = pickOf(g, []any{int64(1), "25%"})
	}
	o["spec"] = spec
	return o
}

func (g *generator) hpa() map[string]any {
	o := manifest("autoscaling/v2", "HorizontalPodAutoscaler", g.metadata(g.name("hpa"), true))
	target := map[string]any{"type": "Utilization", "averageUtilization": g.int(70)}
	res := "cpu"
	if g.chance(0.5) {
		target = map[string]any{"type": "AverageValue", "averageValue": g.q(memories)}
		res = "memory"
	}
	spec := map[string]any{
		"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
		"maxReplicas":    g.int(int64(2 + g.pick(5))),
		"metrics":        []any{map[string]any{"type": "Resource", "resource": map[string]any{"name": res, "target": target}}},
	}
	g.def(spec, "minReplicas", g.int(1))
	o["spec"] = spec
	return o
}

func (g *generator) pvc() map[string]any {
	o := manifest("v1", "PersistentVolumeClaim", g.metadata(g.name("pvc"), true))
	spec := map[string]any{"accessModes": []any{"ReadWriteOnce"}, "resources": map[string]any{"requests": map[string]any{"storage": g.q(storages)}}}
	g.def(spec, "volumeMode", "Filesystem")
	o["spec"] = spec
	return o
}

func (g *generator) limitRange() map[string]any {
	o := manifest("v1", "LimitRange", g.metadata(g.name("limits"), true))
	l := map[string]any{"type": "Container", "default": map[string]any{"cpu": g.q(cpus[3:]), "memory": g.q(memories)}}
	if g.chance(0.5) {
		l["defaultRequest"] = map[string]any{"cpu": g.q(cpus[:3])}
	}
	o["spec"] = map[string]any{"limits": []any{l}}
	return o
}

func (g *generator) resourceQuota() map[string]any {
	o := manifest("v1", "ResourceQuota", g.metadata(g.name("quota"), true))
	hard := map[string]any{"pods": g.q(counts), "requests.cpu": g.q(cpus)}
	if g.chance(0.5) {
		hard["requests.memory"] = g.q(memories)
	}
	o["spec"] = map[string]any{"hard": hard}
	return o
}

func (g *generator) priorityClass() map[string]any {
	o := manifest("scheduling.k8s.io/v1", "PriorityClass", g.metadata(g.ns+"-"+g.name("pc"), false))
	o["value"] = g.int(int64(1000 + g.pick(1000)))
	g.def(o, "globalDefault", false)
	g.def(o, "preemptionPolicy", "PreemptLowerPriority")
	if g.chance(0.5) {
		o["description"] = "generated"
	}
	return o
}

func (g *generator) storageClass() map[string]any {
	o := manifest("storage.k8s.io/v1", "StorageClass", g.metadata(g.ns+"-"+g.name("sc"), false))
	o["provisioner"] = "example.com/fake"
	g.def(o, "reclaimPolicy", "Delete")
	g.def(o, "volumeBindingMode", "Immediate")
	params := map[string]any{}
	if g.chance(0.5) {
		params["tier"] = "gold"
	}
	g.optMap(o, "parameters", params)
	return o
}

// Every spelling of a generated quantity is stored as its canonical form.
func TestGeneratorQuantities(t *testing.T) {
	for _, qs := range [][]quantity{cpus, memories, storages, counts} {
		for _, forms := range qs {
			for _, f := range forms {
				b, err := json.Marshal(f)
				require.NoError(t, err)
				q, err := resource.ParseQuantity(strings.Trim(string(b), `"`))
				require.NoError(t, err, "%v", f)
				assert.Equal(t, forms[0], q.String(), "%v", f)
			}
		}
	}
}
