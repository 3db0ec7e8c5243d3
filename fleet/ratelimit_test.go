package fleet_test

import "testing"

// The clusters read from the registry get Argo CD's client rate limits (50
// requests a second, bursts of 100), not client-go's 5 and 10, which hold a pass
// over a handful of objects to a request every 200 ms (bench/fleet's
// BenchmarkManyClusters: 3 s to apply 9 objects into a fresh cluster).
func TestReadClustersRaiseClientRateLimits(t *testing.T) {
	r := newRegistry(t)
	a, b := cluster.NewAPIServer(t), cluster.NewAPIServer(t)
	r.argoCD("argo", a.RESTConfig(), nil, nil)
	r.capi("capi", b.RESTConfig(), nil, nil)
	clusters, err := r.read()
	if err != nil {
		t.Fatal(err)
	}
	if len(clusters) != 2 {
		t.Fatalf("clusters %v", clusters)
	}
	for _, c := range clusters {
		if c.Config.QPS != 50 || c.Config.Burst != 100 {
			t.Errorf("%s: QPS %v, burst %d; want 50 and 100, as Argo CD gives its clusters", c.Name, c.Config.QPS, c.Config.Burst)
		}
	}
}
