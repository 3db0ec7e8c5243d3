#!/usr/bin/env bash
# What importing gitopskit costs: for each library package, how many packages it
# pulls in (all, and outside the standard library); how many modules the library's
# go.mod requires; the size of each example binary. docs/architecture.md
# ("Dependencies") quotes its output. Run from anywhere: hack/deps.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

printf '%-22s %6s %8s\n' package deps non-std
for p in object kube source source/git render render/kustomize render/sops render/helm render/helm/helm4 render/isolate diff apply health reconcile update clustertest; do
	all=$(go list -deps "./$p" | wc -l)
	ext=$(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "./$p" | grep -c .)
	printf '%-22s %6d %8d\n' "$p" "$all" "$ext"
done
direct=$(go list -m -f '{{if not .Indirect}}{{.Path}}{{end}}' all | tail -n +2 | grep -c . || true)
echo "go.mod: $(grep -c '^	[^ ]* v' go.mod) requirements, $direct direct"

# The examples are their own module (examples/go.mod) once split; before, the main one.
dir=.; pkg=./examples
if [ -f examples/go.mod ]; then dir=examples; pkg=.; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for e in ci-diff controller gitsync image-updater; do
	(cd "$dir" && go build -o "$out/$e" "$pkg/$e")
	printf '%-22s %10d bytes\n' "examples/$e" "$(stat -c %s "$out/$e")"
done

# What health's CEL costs: the packages that come with it, the size of a program
# that builds a health.Assessor next to one that only uses object, and the init time
# of the packages CEL brings (GODEBUG=inittrace=1, median of 5 runs), and
# what building an Assessor and compiling a library rule take at run time.
probe=$(mktemp -d ./_probe.XXXXXX)
trap 'rm -rf "$out" "$probe"' EXIT
mkdir "$probe/health" "$probe/object"
cat >"$probe/health/main.go" <<'GO'
package main

import (
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/health"
)

func main() {
	start := time.Now()
	a, err := health.NewAssessor(health.Options{})
	if err != nil {
		panic(err)
	}
	built := time.Since(start)
	cert := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"name": "c", "namespace": "n", "generation": int64(1)},
		"status":   map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "True"}}},
	}}
	start = time.Now()
	s := a.Assess(cert)
	fmt.Fprintf(os.Stderr, "NewAssessor %v, first Assess of a Certificate (compiles its CEL rule) %v: %s\n", built, time.Since(start), s.Code)
}
GO
cat >"$probe/object/main.go" <<'GO'
package main

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
)

func main() {
	u := &unstructured.Unstructured{}
	u.SetKind("ConfigMap")
	fmt.Println(object.IDOf(u))
}
GO
echo
all=$(go list -deps ./health | wc -l)
cel=$(go list -deps ./health | grep -c cel)
others=$(go list -f '{{join .Imports "\n"}}' ./health | grep -v -e cel -e '^github.com/gitopskit/gitopskit/health')
only=$(comm -23 <(go list -deps ./health | sort) <(go list -deps $others | sort) | wc -l)
echo "health: $all packages, $cel with cel in their path, $only that only CEL brings"
for p in health object; do
	go build -o "$out/$p" "$probe/$p"
	printf '%-22s %10d bytes\n' "import $p" "$(stat -c %s "$out/$p")"
done
go tool nm -size "$out/health" | awk '$4 ~ /cel-go|cel\.dev|antlr|k8s\.io\/apiserver\// { c += $2 } { t += $2 } END {
	printf "symbols of cel-go, cel.dev, antlr and k8s.io/apiserver: %d of %d bytes\n", c, t }'
for i in 1 2 3 4 5; do
	GODEBUG=inittrace=1 "$out/health" 2>&1 >/dev/null |
		awk '/^init / && /cel|antlr|gitopskit\/health|k8s.io\/apiserver/ { ms += $5 } END { printf "%.3f\n", ms }'
done | sort -n | sed -n 3p | xargs echo "init of CEL, k8s.io/apiserver and health, median ms:"
for i in 1 2 3 4 5; do
	GODEBUG=inittrace=1 "$out/health" 2>&1 >/dev/null | awk '/^init / { ms += $5 } END { printf "%.3f\n", ms }'
done | sort -n | sed -n 3p | xargs echo "init of all packages (import health), median ms:"
for i in 1 2 3 4 5; do
	GODEBUG=inittrace=1 "$out/object" 2>&1 >/dev/null | awk '/^init / { ms += $5 } END { printf "%.3f\n", ms }'
done | sort -n | sed -n 3p | xargs echo "init of all packages (import object), median ms:"
for i in 1 2 3 4 5; do "$out/health" 2>&1 >/dev/null | grep NewAssessor; done
