#!/usr/bin/env bash
# Builds the Go tools listed in hack/tools.txt from the Go module proxy into a cache
# directory keyed by package and version, and prints a PATH fragment holding them.
# A tool already built is not built again. A tool is named as tools.txt names it,
# whatever go install calls it.
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
		# go install names the binary after the package's last element (the one
		# before a major version suffix); a tool listed under another name (helm4,
		# beside Helm 3's helm) is renamed so the two can share PATH.
		base=${pkg%@*}
		case "${base##*/}" in v[0-9]*) base=${base%/*} ;; esac
		base=${base##*/}
		if [ "$base" != "$name" ]; then mv "$dir/$base" "$dir/$name"; fi
	fi
	path="${path:+$path:}$dir"
done < "$here/tools.txt"
echo "$path"
