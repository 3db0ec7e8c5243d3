package helm

import (
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/client-go/discovery"
)

// clientGo is the module whose version gives the default Kubernetes version.
const clientGo = "k8s.io/client-go"

// defaultKubeVersion returns the Kubernetes version charts see in
// .Capabilities.KubeVersion (and check their kubeVersion against) when neither
// render.HelmOptions.KubeVersion nor Options.Cluster gives one: v1.N.0 for the
// k8s.io/client-go v0.N.x the program is built with, as a release helm binary
// reports, rather than the Helm library's own default (v1.20.0, which charts
// requiring ">=1.25.0-0" refuse). It reads the version from the program's build
// information, or, in binaries built without it (`go test` binaries), from the
// path the compiler recorded for client-go's code; failing both, it is Helm's.
var defaultKubeVersion = sync.OnceValue(func() string {
	if v, ok := kubeVersionOf(clientGoVersion()); ok {
		return v
	}
	return chartutil.DefaultCapabilities.KubeVersion.Version
})

// clientGoVersion returns the version of k8s.io/client-go in the program, or "".
func clientGoVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path != clientGo {
				continue
			}
			if m.Replace != nil && m.Replace.Version != "" {
				return m.Replace.Version
			}
			return m.Version
		}
	}
	// The compiler records client-go's files as ".../k8s.io/client-go@v0.37.2/...",
	// from the module cache, with or without -trimpath. Not so when vendored or
	// replaced by a directory: then there is no version to find.
	f := runtime.FuncForPC(reflect.ValueOf(discovery.NewDiscoveryClientForConfig).Pointer())
	if f == nil {
		return ""
	}
	file, _ := f.FileLine(f.Entry())
	_, rest, ok := strings.Cut(file, clientGo+"@")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, "/")
	return v
}

// kubeVersionOf maps client-go v0.N.x to Kubernetes v1.N.0.
func kubeVersionOf(clientGoVersion string) (string, bool) {
	v, err := semver.NewVersion(clientGoVersion)
	if err != nil || v.Major() != 0 || v.Minor() == 0 {
		return "", false
	}
	return fmt.Sprintf("v1.%d.0", v.Minor()), true
}
