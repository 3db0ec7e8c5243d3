package apply_test

import (
	"fmt"
	"strings"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
)

// ParseHook reads Argo CD's and Helm's hook annotations: the phases a hook runs
// in (a Helm hook on an install or an upgrade only), its weight and its delete
// policies. SplitHooks takes the hooks out of a set, as an apply with
// ApplyOptions.Hooks does.
func ExampleParseHook() {
	manifests := `
apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
  namespace: shop
  annotations:
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: HookSucceeded
---
apiVersion: batch/v1
kind: Job
metadata:
  name: smoke-test
  namespace: shop
  annotations:
    helm.sh/hook: post-install,post-upgrade
    helm.sh/hook-weight: "5"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: by-hand
  namespace: shop
  annotations: {argocd.argoproj.io/hook: Skip}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
`
	ms, err := object.Decode(strings.NewReader(manifests), "app.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	members, hooks, err := apply.SplitHooks(object.Objects(ms))
	if err != nil {
		fmt.Println(err) // a malformed hook annotation, naming the object
		return
	}
	fmt.Println("members:", object.IDs(members))
	for _, u := range hooks {
		h, _, _ := apply.ParseHook(u)
		fmt.Printf("%s: presync(install)=%v postsync(upgrade)=%v weight=%d delete=%v never=%q\n",
			u.GetName()+u.GetGenerateName(), h.Runs(apply.PreSync, true), h.Runs(apply.PostSync, false), h.Weight, h.DeletePolicies, h.Never)
	}
	// Output:
	// members: [apps/Deployment/shop/web]
	// migrate-: presync(install)=true postsync(upgrade)=false weight=0 delete=[HookSucceeded] never=""
	// smoke-test: presync(install)=false postsync(upgrade)=true weight=5 delete=[BeforeHookCreation] never=""
	// by-hand: presync(install)=false postsync(upgrade)=false weight=0 delete=[BeforeHookCreation] never="argocd.argoproj.io/hook: Skip"
}
