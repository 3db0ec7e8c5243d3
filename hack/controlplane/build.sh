#!/usr/bin/env bash
# Builds the binaries clustertest runs (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, etcd, kwok and kwok's stage config) from the Go module proxy
# into a cache directory keyed by their versions and this builder's sources, and
# prints that directory. When the directory already exists it does nothing else.
#
#   GITOPSKIT_CACHE_DIR  where caches live (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gitopskit)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kube_version=v1.37.2
kwok_version=v0.8.0
etcd_version=$(cd "$here" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
# The key changes with any builder source, so an edited builder never reuses stale bins.
src_hash=$(cd "$here" && cat build.sh go.mod go.sum cmd/*/main.go | sha256sum | cut -c1-12)
key="kube-${kube_version}_etcd-${etcd_version}_kwok-${kwok_version}_${src_hash}"
cache=${GITOPSKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gitopskit}
dest="$cache/controlplane/$key"

if [ -f "$dest/.complete" ]; then
	echo "$dest"
	exit 0
fi

mkdir -p "$cache/controlplane"
tmp=$(mktemp -d "$cache/controlplane/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

minor=${kube_version#v1.}
minor=${minor%%.*}
ldflags="-s -w"
ldflags+=" -X k8s.io/component-base/version.gitVersion=${kube_version}"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
ldflags+=" -X k8s.io/component-base/version.gitMinor=${minor}"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=${kube_version}"
ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1"
ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=${minor}"

start=$SECONDS
echo "building control plane ${key} into ${dest} (a cold build takes about 7 minutes)" >&2
(cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/" ./cmd/...)
CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-trimpath go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@${kwok_version}"

# kwok's stages ship in its module; each file must be its own YAML document, or kwok
# silently drops the stages after the first.
stages="$(go env GOMODCACHE)/sigs.k8s.io/kwok@${kwok_version}/kustomize/stage"
for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
	pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
	echo "---"
	cat "$stages/$f"
done > "$tmp/kwok-stages.yaml"

echo "$key" > "$tmp/.complete"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "built in $((SECONDS - start))s" >&2
echo "$dest"
