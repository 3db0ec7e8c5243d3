package snippets

import (
	"context"
	"fmt"
	"os"
	"testing/fstest"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/kustomize"
	"github.com/gitopskit/gitopskit/render/sops"
)

// sopsFile reads a file render/sops' tests encrypted with the sops CLI.
func sopsFile(name string) []byte {
	b, err := os.ReadFile("../../render/sops/testdata/" + name)
	if err != nil {
		panic(err)
	}
	return b
}

func Example_renderSOPS() {
	ageKey := sopsFile("test.agekey")
	artifact := fstest.MapFS{
		"app/kustomization.yaml": {Data: []byte("resources: [secret.yaml]\nsecretGenerator:\n- name: db\n  envs: [app.env]\n")},
		"app/secret.yaml":        {Data: sopsFile("secret.yaml")}, // sops -e --encrypted-regex '^(data|stringData)$'
		"app/app.env":            {Data: sopsFile("app.env")},     // sops -e, dotenv
	}

	// snippet: render-sops
	// The keys as a Secret holds them for Flux's decryption.secretRef: *.agekey
	// entries hold age identities, *.asc armored OpenPGP private keys.
	d, err := sops.New(sops.Options{Keys: sops.KeysFromData(map[string][]byte{"identity.agekey": ageKey})})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The wrapped renderer reads the artifact decrypted: manifests, patches and
	// generator sources. Wrap render/isolate's renderer the same way.
	renderer := sops.NewRenderer(render.Auto{Kustomize: kustomize.New(kustomize.Options{})}, d)
	res, err := renderer.Render(context.Background(), render.Input{FS: artifact, Dir: "app"}, render.Options{})
	if err != nil {
		fmt.Println(err) // names the file: "app/secret.yaml: no key opens the data key (…)"
		return
	}
	for _, m := range res.Manifests {
		data, _ := m.Object.Object["data"].(map[string]any)
		fmt.Println(m.Origin, object.IDOf(m.Object).KubectlString(), len(data), "data keys")
	}
	// end snippet

	// Output:
	// app/secret.yaml secret/db -n shop 1 data keys
	// app/kustomization.yaml secret/db-99g958bb8t 4 data keys
}
