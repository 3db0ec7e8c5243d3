#!/usr/bin/env bash
# Builds the binaries clustertest runs into the cache and prints their directory: the
# same command gitopskit's users run, clustertest/setup (see its doc comment). It
# does nothing more when they are already built.
#
#   GITOPSKIT_CACHE_DIR  where caches live (default: the user cache directory's gitopskit)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec go run ./clustertest/setup "$@"
