package updatetest_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/gitopskit/gitopskit/update"
	"github.com/gitopskit/gitopskit/update/updatetest"
)

// A registry over TLS asking for the token flow, two tags pushed, and the tags
// listed the way an image updater would.
func Example() {
	ctx := context.Background()
	reg := updatetest.Start(updatetest.Options{Auth: updatetest.TokenFlow, TLS: true})
	defer reg.Close() // in a test: updatetest.NewRegistry(t, …) stops it at cleanup

	digests, err := reg.Write(ctx, "team/app", "1.0.0", "1.1.0") // in a test: reg.Push(t, …)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := &update.Registry{
		Auth:     update.RegistryAuth{Username: reg.Username, Password: reg.Password},
		CABundle: reg.CAPEM,
	}
	tags, err := r.Tags(ctx, reg.Host+"/team/app")
	slices.Sort(tags)
	fmt.Println(tags, err)
	digest, err := r.Digest(ctx, reg.Host+"/team/app", "1.1.0")
	fmt.Println(digest == digests["1.1.0"], err)
	// Output:
	// [1.0.0 1.1.0] <nil>
	// true <nil>
}
