#!/usr/bin/env bash
# Builds the Go tools listed in hack/tools.txt from the Go module proxy into a cache
# directory keyed by package and version, and prints a PATH fragment holding them.
# A tool already built is not built again.
#
#   GITOPSKIT_CACHE_DIR  where caches live (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gitopskit)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${GITOPSKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gitopskit}
path=""
while read -r name pkg; do
	case "$name" in "" | "#"*) continue ;; esac
	dir="$cache/tools/$(echo "$pkg" | tr '/@' '__')"
	if [ ! -x "$dir/$name" ]; then
		echo "building $name from $pkg" >&2
		mkdir -p "$dir"
		CGO_ENABLED=0 GOBIN="$dir" GOFLAGS=-trimpath go install "$pkg" >&2
	fi
	path="${path:+$path:}$dir"
done < "$here/tools.txt"
echo "$path"
