package update_test

import (
	"fmt"

	"github.com/gitopskit/gitopskit/update"
)

func ExamplePolicy_Latest() {
	tags := []string{"latest", "1.4.2", "v1.5.0", "1.6.0-rc.1", "2.0.0", "main-3f2a9c1-1717171717"}

	stable := update.Policy{Name: "shop:app", Image: "ghcr.io/shop/app", SemVer: &update.SemVer{Range: "^1"}}
	fmt.Println(stable.Latest(tags))

	rc := update.Policy{Name: "shop:app-rc", Image: "ghcr.io/shop/app", SemVer: &update.SemVer{Range: "^1", Prereleases: true}}
	fmt.Println(rc.Latest(tags))

	builds := update.Policy{
		Name:       "shop:app-main",
		Image:      "ghcr.io/shop/app",
		Numerical:  &update.Ordering{Order: update.Ascending},
		FilterTags: &update.TagFilter{Pattern: `^main-[0-9a-f]+-(?P<ts>[0-9]+)$`, Extract: "$ts"},
	}
	fmt.Println(builds.Latest(tags))
	// Output:
	// v1.5.0 <nil>
	// 1.6.0-rc.1 <nil>
	// main-3f2a9c1-1717171717 <nil>
}

func ExampleSetter_Set() {
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/shop/app:1.4.2 # {"$imagepolicy": "shop:app"}
        - name: proxy
          image: "nginx:1.25"   # matched by repository
`
	s := &update.Setter{Images: []update.Image{
		{Policy: "shop:app", Name: "ghcr.io/shop/app", Tag: "1.5.0"},
		{Policy: "nginx", Name: "nginx", Tag: "1.27.1"},
	}}
	out, edits, err := s.Set("deploy/app.yaml", []byte(manifest))
	if err != nil {
		panic(err)
	}
	fmt.Print(string(out))
	fmt.Print(update.Message("Update images", edits))
	// Output:
	// apiVersion: apps/v1
	// kind: Deployment
	// metadata:
	//   name: app
	// spec:
	//   template:
	//     spec:
	//       containers:
	//         - name: app
	//           image: ghcr.io/shop/app:1.5.0 # {"$imagepolicy": "shop:app"}
	//         - name: proxy
	//           image: "nginx:1.27.1"   # matched by repository
	// Update images
	//
	// - deploy/app.yaml:10: ghcr.io/shop/app:1.4.2 → ghcr.io/shop/app:1.5.0 (shop:app)
	// - deploy/app.yaml:12: nginx:1.25 → nginx:1.27.1 (nginx)
}
