#!/usr/bin/env bash
# Builds Flux's source-controller and kustomize-controller from the Go module proxy
# into a cache directory keyed by version, copies their CRDs beside them, and prints
# the directory (`make flux`). The test command never runs it.
# A directory already complete is not built again.
#
# Their go.mod files carry replace directives, so `go install module@version` refuses
# them: the module source is downloaded, copied out of the read-only module cache and
# built there.
#
#   GITOPSKIT_CACHE_DIR  where caches live (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gitopskit)
#   FLUX_SOURCE_VERSION, FLUX_KUSTOMIZE_VERSION  the versions (default below)
set -euo pipefail

# Flux 2.7's controllers: the newest whose every module the Go module proxy
# serves here (source-controller v1.8.5 and later need fluxcd/pkg/artifact
# versions it refuses with 403).
source_version=${FLUX_SOURCE_VERSION:-v1.7.0}
kustomize_version=${FLUX_KUSTOMIZE_VERSION:-v1.7.3}
cache=${GITOPSKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gitopskit}
dir="$cache/flux/source-controller@$source_version+kustomize-controller@$kustomize_version"
if [ -e "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi
mkdir -p "$dir/crds"
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT

# download module@version prints the module's source directory in the module cache.
download() {
	local out src
	out=$(GOTOOLCHAIN=auto go mod download -json "$1")
	src=$(echo "$out" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	if [ -z "$src" ]; then
		echo "go mod download $1: $out" >&2
		exit 1
	fi
	echo "$src"
}

build() { # name version
	local name=$1 version=$2 repl sub
	echo "building $name from github.com/fluxcd/$name@$version" >&2
	cp -r "$(download "github.com/fluxcd/$name@$version")" "$work/$name"
	chmod -R u+w "$work/$name"
	# A nested module replaced by its directory (./api) is not in the parent's
	# zip: it is a module of its own, at the same version.
	for repl in $(sed -n 's|^replace \([^ ]*\) => \./\([^ ]*\)$|\1=\2|p' "$work/$name/go.mod"); do
		sub=${repl#*=}
		rm -rf "${work:?}/$name/$sub"
		cp -r "$(download "${repl%%=*}@$version")" "$work/$name/$sub"
		chmod -R u+w "$work/$name/$sub"
	done
	(cd "$work/$name" && CGO_ENABLED=0 GOFLAGS=-trimpath GOTOOLCHAIN=auto go build -o "$dir/$name" .) >&2
	cp "$work/$name"/config/crd/bases/*.yaml "$dir/crds/"
}
build source-controller "$source_version"
build kustomize-controller "$kustomize_version"
touch "$dir/.complete"
echo "$dir"
