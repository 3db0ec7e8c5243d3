package helm_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/internal/testtool"
)

// TestImports checks that the package links Helm's chart loader and template
// engine only: not Helm's actions and release storage (and the SQL drivers they
// bring), nor kubectl, cli-runtime or cobra, which a program that renders charts
// should not pay for.
func TestImports(t *testing.T) {
	goTool := testtool.Require(t, "go")
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"helm.sh/helm/v3/pkg/action", "helm.sh/helm/v3/pkg/storage", "helm.sh/helm/v3/pkg/kube",
		"helm.sh/helm/v3/pkg/cli", "helm.sh/helm/v3/pkg/repo", "helm.sh/helm/v3/pkg/getter",
		"github.com/lib/pq", "github.com/jmoiron/sqlx", "github.com/go-gorp/gorp",
		"github.com/Masterminds/squirrel", "github.com/rubenv/sql-migrate",
		"k8s.io/kubectl", "k8s.io/cli-runtime", "github.com/spf13/cobra",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, f+"/") {
				t.Errorf("render/helm links %s", pkg)
			}
		}
	}
}
