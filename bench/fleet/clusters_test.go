package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/fleet"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// member is one cluster of the fleet: an API server on the shared etcd and how
// it is registered.
type member struct {
	name, format string // format: argocd or capi
	labels       map[string]string
	server       *clustertest.APIServer
	start        time.Duration // how long its start took
	pid          int           // of its kube-apiserver, 0 when not found
}

// BenchmarkManyClusters starts FLEETBENCH_CLUSTERS (default 8) API servers on the
// cluster's etcd, registers them in the management cluster (half as Argo CD
// cluster Secrets, half as Cluster API kubeconfig Secrets) with one more that is
// down, and reconciles one commit of a repository served on loopback into every
// target through fleet.NewGroup, then a second commit.
func BenchmarkManyClusters(b *testing.B) {
	n := envInt("FLEETBENCH_CLUSTERS", 8)
	ctx := context.Background()
	admin := cluster.Config(b)

	// n API servers and the one that will be down, started a few at a time.
	startBegin := time.Now()
	members := startMembers(b, n+1, envInt("FLEETBENCH_START_CONCURRENCY", 4))
	startWall := time.Since(startBegin)
	down := members[n]
	down.name, down.labels = "prod-down", map[string]string{"env": "prod", "region": "eu"}
	b.Logf("%d API servers started in %v (%v each on average, %d at a time)", n+1, startWall.Round(time.Millisecond),
		(startWall / time.Duration(n+1)).Round(time.Millisecond), envInt("FLEETBENCH_START_CONCURRENCY", 4))

	reg := &clusterRegistry{b: b, ns: cluster.NewNamespace(b), kc: kubernetes.NewForConfigOrDie(admin)}
	for _, m := range members {
		reg.register(m)
	}
	etcdPID := findPIDs(b, members)
	up := members[:n]
	idle := envDuration("FLEETBENCH_IDLE", 10*time.Second)
	cpu0 := serverCPU(up, etcdPID)
	time.Sleep(idle)
	idleCPU := (serverCPU(up, etcdPID) - cpu0) / idle.Seconds()
	b.Logf("idle: the %d API servers and etcd use %.2f cores", n, idleCPU)
	down.server.Stop()
	clusters, err := fleet.ReadClusters(ctx, dynamic.NewForConfigOrDie(admin), reg.ns)
	if err != nil {
		b.Fatal(err)
	}
	if len(clusters) != n+1 {
		b.Fatalf("read %d clusters, want %d", len(clusters), n+1)
	}
	spec := fleet.Spec{
		Targets: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"prod", "staging"}}}}},
		Customizations: []fleet.Customization{
			{Name: "prod", ClusterSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}},
				Namespace: "shop-prod", Vars: map[string]string{"replicas": "3", "env": "prod"}},
			{Name: "staging", ClusterSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "staging"}},
				Namespace: "shop-staging", Vars: map[string]string{"replicas": "1", "env": "staging"}},
		},
	}
	targets, err := spec.Select(clusters)
	if err != nil {
		b.Fatal(err)
	}
	if len(targets) != n+1 {
		b.Fatalf("%d targets, want %d", len(targets), n+1)
	}

	repo := gittest.NewRepo(b, "", "shop.git")
	version := 1
	repo.Commit("version 1", appFiles(version))
	repo.Publish()
	gitSrv := gittest.NewHTTPServer(b, repo.Root, gittest.HTTPOptions{})
	src, err := git.New(git.Options{URL: gitSrv.URL + "/shop.git",
		Ref: git.Ref{Branch: "main"}, CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}

	var requests atomic.Int64
	base := reconcile.Options{Path: "app", Prune: true, Wait: true, HealthTimeout: time.Minute, CreateNamespace: true,
		Cluster: reconcile.ClusterOptions{FieldManager: "fleet-bench"}}
	var (
		mu      sync.Mutex
		begin   time.Time
		settled = map[string]time.Duration{} // since the commit, per target
	)
	gopts := reconcile.GroupOptions{
		Concurrency: envInt("FLEETBENCH_CONCURRENCY", 16),
		Timeout:     envDuration("FLEETBENCH_TARGET_TIMEOUT", time.Minute),
		OnSetDone: func(r reconcile.SetResult) {
			mu.Lock()
			settled[r.Name] = time.Since(begin)
			mu.Unlock()
		},
	}
	byName := map[string]*member{}
	for _, m := range members {
		byName[m.name] = m
	}

	for i := range b.N {
		buildBegin := time.Now()
		g, err := fleet.NewGroup(targets, func(t fleet.Target) (reconcile.Runner, error) {
			opts := t.Options(base)
			opts.Cluster.Inventory = object.ID{Kind: "Secret", Namespace: opts.Cluster.Namespace, Name: "shop"}
			return reconcile.NewForConfig(testtool.CountRequests(t.Cluster.Config, &requests), reconcile.Stages{Source: src}, opts)
		}, gopts)
		if err != nil {
			b.Fatal(err)
		}
		build := time.Since(buildBegin)

		var passes []pass
		for c := range 2 {
			if c > 0 || i > 0 { // every pass but the first is a new commit
				version++
				repo.Commit(fmt.Sprintf("version %d", version), appFiles(version))
				repo.Publish()
			}
			requests.Store(0)
			gitSrv.Requests.Store(0)
			clear(settled)
			cpu0, self0 := serverCPU(up, etcdPID), cpuSeconds()
			begin = time.Now()
			results, err := g.Reconcile(ctx)
			p := pass{version: version, wall: time.Since(begin), results: results, err: err, requests: requests.Load(),
				gitRequests: gitSrv.Requests.Load(), settled: maps.Clone(settled), serverCPU: serverCPU(up, etcdPID) - cpu0, selfCPU: cpuSeconds() - self0}
			p.log(b, byName, targets)
			p.check(b, byName, down.name)
			passes = append(passes, p)
		}
		b.Logf("%d runners built in %v", len(targets), build.Round(time.Millisecond))
		reportClusters(b, n, startWall, idleCPU, up, etcdPID, passes)
	}
}

// startMembers starts k API servers, at most conc at once, and stops them when
// the benchmark ends. It starts none while less than FLEETBENCH_MIN_FREE_MB
// (default 2048) of memory is available, so that the machine's other work is not
// the one the kernel kills.
func startMembers(b *testing.B, k, conc int) []*member {
	floor := envInt("FLEETBENCH_MIN_FREE_MB", 2048)
	begin := time.Now()
	regions := []string{"eu", "us", "ap"}
	members := make([]*member, k)
	errs := make([]error, k)
	slots := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := range members {
		env := []string{"prod", "staging"}[i%2]
		m := &member{
			name:   fmt.Sprintf("%s-%s-%03d", env, regions[i%3], i),
			format: []string{"argocd", "capi"}[i/2%2],
			labels: map[string]string{"env": env, "region": regions[i%3]},
		}
		members[i] = m
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			if free := memAvailableMB(); free < floor {
				errs[i] = fmt.Errorf("%s not started: %d MB of memory available, under FLEETBENCH_MIN_FREE_MB=%d", m.name, free, floor)
				return
			}
			start := time.Now()
			m.server, errs[i] = cluster.StartAPIServer(context.Background())
			m.start = time.Since(start)
		})
	}
	wg.Wait()
	b.Cleanup(func() { // all at once: one by one, 64 take a minute
		var wg sync.WaitGroup
		for _, m := range members {
			if m.server != nil {
				wg.Go(m.server.Stop)
			}
		}
		wg.Wait()
	})
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		b.Fatalf("started %d of %d API servers in %v; %d failed, the first: %v", k-len(failed), k,
			time.Since(begin).Round(time.Millisecond), len(failed), failed[0])
	}
	return members
}

// appFiles is the set every target gets: five ConfigMaps and three Services (the
// API servers have no nodes, so nothing that needs a pod), version in every
// ConfigMap, and the customization's variables in the first.
func appFiles(version int) map[string]string {
	out := map[string]string{
		"app/settings.yaml": fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"+
			"data: {version: \"%d\", replicas: \"${replicas:=1}\", env: \"${env:=none}\"}\n", version),
	}
	for k := range 4 {
		out[fmt.Sprintf("app/cm-%d.yaml", k)] = fmt.Sprintf(
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop-%d}\ndata: {version: \"%d\"}\n", k, version)
	}
	for k := range 3 {
		out[fmt.Sprintf("app/svc-%d.yaml", k)] = fmt.Sprintf(
			"apiVersion: v1\nkind: Service\nmetadata: {name: shop-%d}\nspec: {selector: {app: shop-%d}, ports: [{name: http, port: 80, targetPort: 8080}]}\n", k, k)
	}
	return out
}

// clusterRegistry writes the cluster Secrets into a namespace of the management
// cluster.
type clusterRegistry struct {
	b  *testing.B
	ns string
	kc kubernetes.Interface
}

func (r *clusterRegistry) register(m *member) {
	r.b.Helper()
	cfg := m.server.RESTConfig()
	l := maps.Clone(m.labels)
	var s *corev1.Secret
	switch m.format {
	case "argocd":
		conf, err := json.Marshal(map[string]any{"bearerToken": cfg.BearerToken, "tlsClientConfig": map[string]any{"caData": cfg.CAData}})
		if err != nil {
			r.b.Fatal(err)
		}
		l[fleet.ArgoCDSecretTypeLabel] = "cluster"
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cluster-" + m.name, Labels: l},
			Data: map[string][]byte{"name": []byte(m.name), "server": []byte(cfg.Host), "config": conf}}
	default:
		kc := clientcmdapi.NewConfig()
		kc.Clusters[m.name] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
		kc.AuthInfos[m.name+"-admin"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
		kc.Contexts[m.name] = &clientcmdapi.Context{Cluster: m.name, AuthInfo: m.name + "-admin"}
		kc.CurrentContext = m.name
		data, err := clientcmd.Write(*kc)
		if err != nil {
			r.b.Fatal(err)
		}
		l[fleet.CAPIClusterNameLabel] = m.name
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: m.name + "-kubeconfig", Labels: l}, Type: fleet.CAPISecretType,
			Data: map[string][]byte{"value": data}}
	}
	if _, err := r.kc.CoreV1().Secrets(r.ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		r.b.Fatal(err)
	}
}

// pass is one commit reconciled into every target.
type pass struct {
	version  int
	wall     time.Duration // the group's Reconcile
	results  []reconcile.SetResult
	err      error
	requests int64
	// gitRequests are the requests the Git server served: one fetch for every
	// target, or one for the commit.
	gitRequests int64
	serverCPU   float64                  // CPU seconds of the API servers and etcd
	selfCPU     float64                  // CPU seconds of this process: the reconcilers, the Git server
	settled     map[string]time.Duration // since the commit, per target
}

func (p pass) log(b *testing.B, byName map[string]*member, targets []fleet.Target) {
	custom := map[string]string{}
	for _, t := range targets {
		custom[t.Cluster.Name] = t.Customization.Name
	}
	b.Logf("commit %d to %d targets: %v, %d API requests, %d Git requests; CPU s: %.1f of the API servers and etcd, %.1f of the reconcilers",
		p.version, len(p.results), p.wall.Round(time.Millisecond), p.requests, p.gitRequests, p.serverCPU, p.selfCPU)
	b.Logf("  %-18s %-6s %-24s %-8s %-6s %7s %9s %9s", "target", "format", "labels", "custom", "result", "applied", "pass", "settled")
	for _, r := range p.results {
		m := byName[r.Name]
		status, applied := "ready", 0
		if !r.Ready() {
			status = "FAILED"
		}
		if r.Result != nil {
			applied = len(r.Result.Applied())
		}
		b.Logf("  %-18s %-6s %-24s %-8s %-6s %7d %9v %9v", r.Name, m.format, labelString(m.labels), custom[r.Name], status, applied,
			r.Duration.Round(time.Millisecond), p.settled[r.Name].Round(time.Millisecond))
		if r.Err != nil {
			b.Logf("    %s: %v", r.Name, r.Err)
		}
	}
	if slowest := slowestReady(p.results); slowest != nil {
		var stages []string
		for _, st := range []reconcile.Stage{reconcile.StageSource, reconcile.StageRender, reconcile.StageTransform,
			reconcile.StageDiff, reconcile.StageApply, reconcile.StagePrune, reconcile.StageHealth} {
			if d, ok := slowest.Result.Durations[st]; ok {
				stages = append(stages, fmt.Sprintf("%s %v", st, d.Round(time.Millisecond)))
			}
		}
		b.Logf("  slowest, %s: %s", slowest.Name, strings.Join(stages, ", "))
	}
}

func slowestReady(results []reconcile.SetResult) *reconcile.SetResult {
	var out *reconcile.SetResult
	for i, r := range results {
		if r.Ready() && (out == nil || r.Duration > out.Duration) {
			out = &results[i]
		}
	}
	return out
}

// check fails the benchmark unless every target but down is ready and applied
// something, and down failed alone.
func (p pass) check(b *testing.B, byName map[string]*member, down string) {
	for _, r := range p.results {
		switch {
		case r.Name == down && r.Ready():
			b.Fatalf("commit %d: %s is down, yet ready", p.version, down)
		case r.Name != down && !r.Ready():
			b.Fatalf("commit %d: %s failed: %v", p.version, r.Name, r.Err)
		case r.Name != down:
			if len(r.Result.Applied()) == 0 {
				b.Fatalf("commit %d: %s applied nothing", p.version, r.Name)
			}
			m := byName[r.Name]
			ns, replicas := "shop-"+m.labels["env"], map[string]string{"prod": "3", "staging": "1"}[m.labels["env"]]
			cm, err := kubernetes.NewForConfigOrDie(m.server.RESTConfig()).CoreV1().ConfigMaps(ns).Get(context.Background(), "settings", metav1.GetOptions{})
			if err != nil {
				b.Fatalf("%s: %v", r.Name, err)
			}
			if cm.Data["version"] != strconv.Itoa(p.version) || cm.Data["replicas"] != replicas || cm.Data["env"] != m.labels["env"] {
				b.Fatalf("%s: %s/settings is %v", r.Name, ns, cm.Data)
			}
		}
	}
	if p.err == nil || !strings.Contains(p.err.Error(), "set "+down+":") {
		b.Fatalf("commit %d: err = %v, want the failure of %s alone", p.version, p.err, down)
	}
}

func labelString(l map[string]string) string {
	var s []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		s = append(s, k+"="+l[k])
	}
	return strings.Join(s, ",")
}

// reportClusters reports the figures of the run.
func reportClusters(b *testing.B, n int, startWall time.Duration, idleCPU float64, up []*member, etcdPID int, passes []pass) {
	b.ReportMetric(float64(n), "clusters")
	b.ReportMetric(startWall.Seconds()/float64(n+1), "start-s/apiserver")
	starts := make([]time.Duration, len(up))
	for i, m := range up {
		starts[i] = m.start
	}
	b.ReportMetric(percentile(starts, 50).Seconds(), "start-p50-s")
	b.ReportMetric(idleCPU, "idle-cores")
	for i, p := range passes {
		var settled, durations []time.Duration
		var downFailed time.Duration
		for _, r := range p.results {
			if r.Ready() {
				settled = append(settled, p.settled[r.Name])
				durations = append(durations, r.Duration)
			} else {
				downFailed = p.settled[r.Name]
			}
		}
		prefix := fmt.Sprintf("c%d-", i+1)
		b.ReportMetric(percentile(settled, 100).Seconds(), prefix+"all-applied-s")
		b.ReportMetric(percentile(durations, 50).Seconds(), prefix+"target-p50-s")
		b.ReportMetric(percentile(durations, 100).Seconds(), prefix+"target-max-s")
		b.ReportMetric(downFailed.Seconds(), prefix+"down-failed-s")
		b.ReportMetric(float64(p.requests), prefix+"requests")
		b.ReportMetric(float64(p.gitRequests), prefix+"git-requests")
		b.ReportMetric(p.serverCPU, prefix+"server-cpu-s")
		b.ReportMetric(p.selfCPU, prefix+"reconciler-cpu-s")
	}
	// RSS counts the pages of the binary every API server shares; RssAnon is
	// what each adds.
	var rss, anon, most float64
	var count int
	for _, m := range up {
		if m.pid == 0 {
			continue
		}
		r := memMB(m.pid, "VmRSS:")
		rss, anon, most, count = rss+r, anon+memMB(m.pid, "RssAnon:"), max(most, r), count+1
	}
	if count == 0 {
		return
	}
	b.ReportMetric(rss/float64(count), "apiserver-MB")
	b.ReportMetric(most, "apiserver-max-MB")
	b.ReportMetric(anon/float64(count), "apiserver-anon-MB")
	if etcdPID != 0 {
		b.ReportMetric(memMB(etcdPID, "VmRSS:"), "etcd-MB")
	}
	b.Logf("memory: %.0f MB RSS per API server on average (max %.0f), %.0f MB of it anonymous; %.0f MB anonymous for %d",
		rss/float64(count), most, anon/float64(count), anon, count)
}

// findPIDs finds the kube-apiserver process of each member, by the port it
// serves on, and returns that of the etcd they share; a process not found is
// logged, and its figures are left out.
func findPIDs(b *testing.B, members []*member) int {
	var etcd string
	for _, m := range members {
		host, err := url.Parse(m.server.RESTConfig().Host)
		if err != nil {
			b.Fatal(err)
		}
		pid, args := findProcess("kube-apiserver", "--secure-port="+host.Port())
		if pid == 0 {
			b.Logf("no kube-apiserver serves port %s: its RSS and CPU are not measured", host.Port())
			continue
		}
		m.pid = pid
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "--etcd-servers="); ok {
				etcd = v
			}
		}
	}
	pid, _ := findProcess("etcd", "--listen-client-urls="+etcd)
	return pid
}

// serverCPU is the CPU time (user and system) the members' API servers and etcd
// have used, from /proc/<pid>/stat.
func serverCPU(members []*member, etcd int) float64 {
	var ticks float64
	add := func(pid int) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // after the command, which may hold spaces
		if len(fields) > 12 {
			u, _ := strconv.ParseFloat(fields[11], 64)
			st, _ := strconv.ParseFloat(fields[12], 64)
			ticks += u + st
		}
	}
	for _, m := range members {
		if m.pid != 0 {
			add(m.pid)
		}
	}
	if etcd != 0 {
		add(etcd)
	}
	return ticks / 100 // USER_HZ
}

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

// findProcess returns the pid and arguments of a process of this user running the
// program named name with the argument arg, 0 when there is none.
func findProcess(name, arg string) (int, []string) {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || len(data) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if filepath.Base(args[0]) == name && slices.Contains(args[1:], arg) {
			pid, _ := strconv.Atoi(filepath.Base(dir))
			return pid, args
		}
	}
	return 0, nil
}

// memAvailableMB is the memory available for new processes (MemAvailable of
// /proc/meminfo), in MB; a large number where it cannot be read.
func memAvailableMB() int {
	kb, ok := procField("/proc/meminfo", "MemAvailable:")
	if !ok {
		return math.MaxInt
	}
	return int(kb / 1024)
}

// procField reads a field given in kB from a /proc file such as status or meminfo.
func procField(path, field string) (float64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb, err == nil
		}
	}
	return 0, false
}

// memMB is a memory figure of a process (VmRSS:, RssAnon:) in MB, from
// /proc/<pid>/status.
func memMB(pid int, field string) float64 {
	kb, _ := procField(fmt.Sprintf("/proc/%d/status", pid), field)
	return kb / 1024
}
