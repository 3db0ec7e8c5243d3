#!/usr/bin/env bash
# The whole test suite: builds what the tests need when it is missing (control plane
# binaries and tools, cached by version), checks formatting, vet and staticcheck in
# every module, then runs every test. `make test` runs this; so does .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

start=$SECONDS
GITOPSKIT_CONTROLPLANE_DIR=$(hack/controlplane/build.sh)
export GITOPSKIT_CONTROLPLANE_DIR
PATH="$(hack/tools.sh):$PATH"
export PATH
echo "prerequisites ready in $((SECONDS - start))s" >&2

# examples/ is its own module, so that what only the examples need (controller-runtime,
# the Prometheus client) is not in the library's go.mod.
modules=(. examples bench)
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
for m in "${modules[@]}"; do
	(cd "$m" && go vet ./... && staticcheck ./...)
done
# The module that builds the control plane lives in clustertest/internal/controlplane
# as files the main module does not compile; vet it written out, with the flags it is
# built with, so the packages its build compiled are reused.
builder=$(mktemp -d)
trap 'rm -rf "$builder"' EXIT
go run ./clustertest/setup -module "$builder"
(cd "$builder" && CGO_ENABLED=0 GOFLAGS=-trimpath go vet ./...)
# bench/gitopsengine needs Go 1.27 (gitops-engine declares it): GOTOOLCHAIN=auto
# fetches that toolchain from the module proxy. No staticcheck there: the one
# hack/tools.sh builds with Go 1.26 cannot load Go 1.27 packages.
(cd bench/gitopsengine && GOTOOLCHAIN=auto go vet ./...)

go test -count=1 -timeout 30m ./... "$@"
(cd examples && go test -count=1 -timeout 30m ./... "$@")
(cd bench && go test -count=1 -run . ./...)
(cd bench/gitopsengine && GOTOOLCHAIN=auto go test -count=1 -run . ./...)
echo "all tests passed in $((SECONDS - start))s" >&2
