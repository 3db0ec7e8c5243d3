// Package updatetest runs a real OCI image registry on loopback for tests of image
// automation: go-containerregistry's in-memory registry behind an authentication
// layer that asks for nothing, for HTTP Basic credentials, or for a bearer token
// issued by a token endpoint (the flow of Docker Hub, GHCR and most registries),
// optionally over TLS with a self-signed certificate.
//
// It is a normal package imported only by tests (of package update, of the guides
// under docs/snippets and of the examples), the way source/git/gittest serves Git
// to tests:
//
//	reg := updatetest.NewRegistry(t, updatetest.Options{Auth: updatetest.TokenFlow, TLS: true})
//	digests := reg.Push(t, "team/app", "1.0.0", "1.1.0")
//	r := &update.Registry{
//		Auth:     update.RegistryAuth{Username: reg.Username, Password: reg.Password},
//		CABundle: reg.CAPEM,
//	}
//	tags, err := r.Tags(ctx, reg.Host+"/team/app")
//
// [NewRegistry] and [Registry.Push] take a testing.TB: the registry stops at the end
// of the test and a failed push fails the test. [Start] and [Registry.Write] do the
// same without one (the caller closes the registry and handles the error), which is
// what the package's runnable example uses.
package updatetest
