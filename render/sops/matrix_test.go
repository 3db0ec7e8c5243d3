package sops_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/render/sops"
)

// The secret values of the fixtures: no error may contain one.
var secretValues = []string{"hunter2", "s3cr3t-token", "correct horse", "p@ss:word", "BINARY-SECRET"}

// fileKinds are the kinds of files the matrix encrypts with the sops CLI.
var fileKinds = []struct {
	name  string // the file's name: its extension chooses the format
	plain string
}{
	{"secret.yaml", `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  labels:
    app: db
type: Opaque
stringData:
  password: hunter2
  port: "5432"
  token_unencrypted: visible
data:
  token: czNjcjN0LXRva2Vu
`},
	{"multi.yaml", `apiVersion: v1
kind: Secret
metadata:
  name: one
stringData:
  password: hunter2
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: two
data:
  replicas: "3"
  list_unencrypted: "x"
---
apiVersion: v1
kind: Secret
metadata:
  name: three
stringData:
  phrase: correct horse
`},
	{"values.yaml", `# typed values
count: 3
ratio: 0.25
enabled: true
disabled: false
empty: ""
none: null
nested:
  list: [a, 1, 2.5, true]
  key: "p@ss:word"
  deep_unencrypted:
    x: 1
`},
	{"config.json", `{"user": "admin", "password": "hunter2", "port": 5432, "ratio": 1.5, "big": 12345678901234, "on": true, "nothing": null, "list": ["a", 2, {"k": "correct horse"}], "name_unencrypted": "visible"}
`},
	{"app.env", "# database\nDB_USER=admin\nDB_PASSWORD=hunter2\nMULTI=line1\\nline2\nTOKEN_unencrypted=visible\n"},
	{"key.bin", "BINARY-SECRET\x00\x01\x02 with bytes\n"},
}

// variants are the ways the matrix encrypts each file.
var variants = []struct {
	name string
	args []string
}{
	{"whole", nil},
	{"encrypted-regex", []string{"--encrypted-regex", "^(data|stringData|password|DB_PASSWORD|nested|list)$"}},
	{"unencrypted-suffix", []string{"--unencrypted-suffix", "_unencrypted"}},
	{"encrypted-suffix", []string{"--encrypted-suffix", "word"}},
	{"mac-only-encrypted", []string{"--encrypted-regex", "^(data|stringData|password|DB_PASSWORD|nested|list)$", "--mac-only-encrypted"}},
}

// TestMatrixAgainstSOPS encrypts every file kind with the sops CLI, for age, for
// OpenPGP and for both, whole and with each selection of encrypted values, and
// checks that Decrypt returns what `sops -d` does.
func TestMatrixAgainstSOPS(t *testing.T) {
	k := sharedKeys(t)
	cli := requireSOPS(t, k)
	for _, keyType := range []string{"age", "pgp", "age+pgp"} {
		var recipients []string
		if strings.Contains(keyType, "age") {
			recipients = append(recipients, "--age", k.ageRecipient)
		}
		if strings.Contains(keyType, "pgp") {
			recipients = append(recipients, "--pgp", k.pgpFP)
		}
		for _, fk := range fileKinds {
			for _, v := range variants {
				if fk.name == "key.bin" && v.name != "whole" {
					continue // a binary file is one value: it is always encrypted
				}
				t.Run(keyType+"/"+fk.name+"/"+v.name, func(t *testing.T) {
					dir := t.TempDir()
					enc := cli.encrypt(t, dir, fk.name, []byte(fk.plain), append(recipients, v.args...)...)
					want, err := cli.decrypt(t, dir, fk.name, enc)
					if err != nil {
						t.Fatalf("sops -d: %v", err)
					}
					for _, dk := range decryptorsFor(t, k, keyType) {
						got, err := dk.d.Decrypt(context.Background(), fk.name, enc)
						if err != nil {
							t.Fatalf("%s: Decrypt: %v", dk.name, err)
						}
						sameContent(t, fk.name, got, want)
					}
				})
			}
		}
	}
}

type namedDecryptor struct {
	name string
	d    *sops.Decryptor
}

// decryptorsFor returns a Decryptor for each key a file encrypted for keyType
// opens with alone.
func decryptorsFor(t *testing.T, k testKeys, keyType string) []namedDecryptor {
	var out []namedDecryptor
	if strings.Contains(keyType, "age") {
		out = append(out, namedDecryptor{"age key", k.decryptor(t, true, false)})
	}
	if strings.Contains(keyType, "pgp") {
		out = append(out, namedDecryptor{"pgp key", k.decryptor(t, false, true)})
	}
	return out
}

// sameContent compares decrypted files as what they hold: YAML and JSON as
// values, dotenv and binary files byte for byte.
func sameContent(t *testing.T, name string, got, want []byte) {
	t.Helper()
	switch {
	case strings.HasSuffix(name, ".yaml"):
		g, w := yamlDocs(t, got), yamlDocs(t, want)
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("decrypted %s differs from sops -d:\n got: %v\nwant: %v", name, g, w)
		}
	case strings.HasSuffix(name, ".json"):
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("decrypted %s is not JSON: %v", name, err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("decrypted %s differs from sops -d:\n got: %v\nwant: %v", name, g, w)
		}
	default:
		if string(got) != string(want) {
			t.Fatalf("decrypted %s differs from sops -d:\n got: %q\nwant: %q", name, got, want)
		}
	}
}

func yamlDocs(t *testing.T, b []byte) []any {
	t.Helper()
	var out []any
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var v any
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, b)
		}
		out = append(out, v)
	}
	return out
}

// TestBadInputs checks that what sops -d refuses, Decrypt refuses too, with an
// error naming the file and wrapping the right sentinel, holding no secret.
func TestBadInputs(t *testing.T) {
	k := sharedKeys(t)
	cli := requireSOPS(t, k)
	other := newKeys(t)
	dir := t.TempDir()
	secret := fileKinds[0]
	whole := string(cli.encrypt(t, dir, "whole.yaml", []byte(secret.plain), "--age", k.ageRecipient))
	regex := string(cli.encrypt(t, dir, "regex.yaml", []byte(secret.plain), "--age", k.ageRecipient, "--encrypted-regex", "^(data|stringData)$"))
	multi := string(cli.encrypt(t, dir, "multi.yaml", []byte(fileKinds[1].plain), "--age", k.ageRecipient))
	env := string(cli.encrypt(t, dir, "app.env", []byte(fileKinds[4].plain), "--age", k.ageRecipient))
	pgpOnly := string(cli.encrypt(t, dir, "pgp.yaml", []byte(secret.plain), "--pgp", k.pgpFP))

	line := func(s, prefix string) string {
		for l := range strings.Lines(s) {
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return l
			}
		}
		t.Fatalf("no line %q in\n%s", prefix, s)
		return ""
	}
	encOf := func(l string) string { return l[strings.Index(l, "ENC[") : strings.LastIndex(l, "]")+1] }
	withoutLine := func(s, prefix string) string { return strings.Replace(s, line(s, prefix), "", 1) }
	aliceD := k.decryptor(t, true, false)
	cases := []struct {
		name, file, data string
		d                *sops.Decryptor
		want             error
	}{
		{"tampered unencrypted value", "regex.yaml", strings.Replace(regex, "name: db", "name: dc", 1), aliceD, sops.ErrMAC},
		{"value moved to another key", "whole.yaml", strings.Replace(whole, encOf(line(whole, "password:")), encOf(line(whole, "port:")), 1), aliceD, sops.ErrMAC},
		{"value removed", "regex.yaml", withoutLine(regex, "password:"), aliceD, sops.ErrMAC},
		{"document removed", "multi.yaml", multi[:strings.Index(multi, "\n---\n")+1], aliceD, sops.ErrMAC},
		{"value moved in a document", "multi.yaml", strings.Replace(multi, encOf(line(multi, "phrase:")), encOf(line(multi, "password:")), 1), aliceD, sops.ErrMAC},
		{"dotenv value moved", "app.env", strings.Replace(env, encOf(line(env, "DB_USER=")), encOf(line(env, "DB_PASSWORD=")), 1), aliceD, sops.ErrMAC},
		{"tampered MAC", "whole.yaml", strings.Replace(whole, "mac: ENC[AES256_GCM,data:", "mac: ENC[AES256_GCM,data:AAAA", 1), aliceD, sops.ErrMAC},
		{"wrong key", "whole.yaml", whole, other.decryptor(t, true, true), sops.ErrNoKey},
		{"no key", "whole.yaml", whole, mustNew(t, sops.Options{}), sops.ErrNoKey},
		{"age key for a pgp file", "pgp.yaml", pgpOnly, aliceD, sops.ErrNoKey},
		{"truncated ENC value", "whole.yaml", strings.Replace(whole, encOf(line(whole, "password:")), encOf(line(whole, "password:"))[:40], 1), aliceD, sops.ErrInvalid},
		{"no mac", "whole.yaml", withoutLine(whole, "mac:"), aliceD, sops.ErrInvalid},
		{"no lastmodified", "whole.yaml", withoutLine(whole, "lastmodified:"), aliceD, sops.ErrInvalid},
		{"no recipients", "whole.yaml", cutAge(t, whole), aliceD, sops.ErrInvalid},
		{"dotenv without mac", "app.env", withoutLine(env, "sops_mac="), aliceD, sops.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.data == whole && c.want != sops.ErrNoKey {
				t.Fatal("the case changed nothing")
			}
			_, cliErr := cli.decrypt(t, t.TempDir(), c.file, []byte(c.data))
			if cliErr == nil && c.want != sops.ErrNoKey {
				t.Errorf("sops -d accepts it")
			}
			_, err := c.d.Decrypt(context.Background(), c.file, []byte(c.data))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want an error wrapping %v", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), c.file+": ") {
				t.Errorf("error does not start with the file's name: %v", err)
			}
			if c.name == "value moved in a document" && !strings.Contains(err.Error(), "multi.yaml: document 3 (line ") {
				t.Errorf("error does not name the document: %v", err)
			}
			for _, s := range secretValues {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error holds a secret value: %v", err)
				}
			}
			t.Log(err)
		})
	}
}

// cutAge removes the age recipients of a YAML file.
func cutAge(t *testing.T, s string) string {
	i := strings.Index(s, "    age:\n")
	j := strings.Index(s, "    lastmodified:")
	if i < 0 || j < i {
		t.Fatalf("no age stanza in\n%s", s)
	}
	return s[:i] + s[j:]
}

func mustNew(t *testing.T, opts sops.Options) *sops.Decryptor {
	t.Helper()
	d, err := sops.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
