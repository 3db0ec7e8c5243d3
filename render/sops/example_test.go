package sops_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/sops"
	"github.com/gitopskit/gitopskit/source"
)

// Decrypt a file encrypted with `sops -e --age … --encrypted-regex
// '^(data|stringData)$'`.
func ExampleDecryptor_Decrypt() {
	key, err := os.ReadFile("testdata/test.agekey")
	if err != nil {
		panic(err)
	}
	d, err := sops.New(sops.Options{Keys: sops.Keys{Age: [][]byte{key}}})
	if err != nil {
		panic(err)
	}
	enc, err := os.ReadFile("testdata/secret.yaml")
	if err != nil {
		panic(err)
	}
	out, err := d.Decrypt(context.Background(), "secret.yaml", enc)
	if err != nil {
		panic(err)
	}
	fmt.Print(strings.Contains(string(out), `password: "hunter2"`), " ", strings.Contains(string(out), "sops:"))
	// Output: true false
}

// Render a directory whose files are encrypted: the keys come from a Secret's
// data, as Flux's decryption.secretRef gives them.
func ExampleNewRenderer() {
	key, err := os.ReadFile("testdata/test.agekey")
	if err != nil {
		panic(err)
	}
	d, err := sops.New(sops.Options{Keys: sops.KeysFromData(map[string][]byte{"identity.agekey": key})})
	if err != nil {
		panic(err)
	}
	r := sops.NewRenderer(render.Plain{}, d) // or render.Auto{Kustomize: …, Helm: …}
	res, err := r.Render(context.Background(), render.Input{FS: source.DirFS("testdata")}, render.Options{Include: []string{"secret.yaml", "multi.yaml"}})
	if err != nil {
		panic(err)
	}
	for _, m := range res.Manifests {
		sd, _ := m.Object.Object["stringData"].(map[string]any)
		fmt.Println(m.Origin, m.Object.GetKind(), m.Object.GetName(), len(sd), "values")
	}
	// Output:
	// multi.yaml:1 Secret one 1 values
	// multi.yaml:23 ConfigMap two 0 values
	// multi.yaml:46 Secret three 1 values
	// secret.yaml:1 Secret db 3 values
}
