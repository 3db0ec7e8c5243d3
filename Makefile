# `make test` runs every check and test; it builds the local cluster's binaries and
# the tools first when they are missing.
.PHONY: demo test controlplane tools flux bench

# The whole GitOps loop on a local cluster: see examples/gitsync.
demo:
	GITOPSKIT_CONTROLPLANE_DIR=$$(hack/controlplane/build.sh) go run -C examples ./gitsync

test:
	hack/test.sh

controlplane:
	hack/controlplane/build.sh

tools:
	hack/tools.sh

# Flux's source-controller and kustomize-controller, to compare against (bench/fleet).
flux:
	hack/flux.sh

bench:
	GITOPSKIT_CONTROLPLANE_DIR=$$(hack/controlplane/build.sh) PATH=$$(hack/tools.sh):$$PATH \
		GITOPSKIT_FLUX_DIR=$$(hack/flux.sh) \
		sh -c 'cd bench && go test -run XXX -bench . -benchtime 3x ./... && \
			cd gitopsengine && GOTOOLCHAIN=auto go test -run XXX -bench . -benchtime 3x ./...'
