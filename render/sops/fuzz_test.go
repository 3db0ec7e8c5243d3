package sops_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitopskit/gitopskit/render/sops"
)

// FuzzDecrypt feeds Decrypt files of every format, starting from files the sops
// CLI encrypted: it must return an error or a result, never panic, and never
// hand back a file it could not decrypt as decrypted.
func FuzzDecrypt(f *testing.F) {
	key, err := os.ReadFile("testdata/test.agekey")
	if err != nil {
		f.Fatal(err)
	}
	d, err := sops.New(sops.Options{Keys: sops.Keys{Age: [][]byte{key}}})
	if err != nil {
		f.Fatal(err)
	}
	for _, fk := range fileKinds {
		b, err := os.ReadFile(filepath.Join("testdata", fk.name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fk.name, b)
	}
	f.Add("x.yaml", []byte("a: 1\nsops:\n  mac: ENC[AES256_GCM,data:,iv:,tag:,type:str]\n"))
	f.Add("x.env", []byte("sops_age__list_0__map_enc=x\nsops_mac=ENC[\nA=ENC[AES256_GCM,data:AA==,iv:AA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:int]\n"))
	f.Add("x.bin", []byte(`{"data": "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:bytes]", "sops": {"age": [{"enc": "-----BEGIN AGE ENCRYPTED FILE-----"}]}}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		out, err := d.Decrypt(context.Background(), name, data)
		if err == nil && sops.IsEncrypted(name, data) && sops.IsEncrypted(name, out) {
			t.Fatalf("%s: decrypted output still holds SOPS metadata", name)
		}
	})
}
