package sops_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"go.yaml.in/yaml/v3"

	"github.com/gitopskit/gitopskit/render/sops"
)

// xorKMS stands in for a cloud KMS: it "wraps" a data key by XOR with its key,
// for stanzas of kind "kms" naming its ARN.
type xorKMS struct {
	arn string
	key byte
}

func (k xorKMS) DataKey(_ context.Context, kind string, stanza map[string]any) ([]byte, error) {
	if kind != "kms" || stanza["arn"] != k.arn {
		return nil, fmt.Errorf("%s %v: %w", kind, stanza["arn"], sops.ErrNoKey)
	}
	b, err := base64.StdEncoding.DecodeString(fmt.Sprint(stanza["enc"]))
	if err != nil {
		return nil, err
	}
	for i := range b {
		b[i] ^= k.key
	}
	return b, nil
}

func (k xorKMS) ID() string { return "xor:" + k.arn }

// TestKeySource: a file whose data key only a KeySource opens (its age
// recipient replaced by a kms stanza) decrypts through the KeySource, as it
// does with the age key; a source for another key is ErrNoKey.
func TestKeySource(t *testing.T) {
	enc, err := os.ReadFile("testdata/secret.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ageKey, err := os.ReadFile("testdata/test.agekey")
	if err != nil {
		t.Fatal(err)
	}
	// Take the data key out of the age stanza, and write it in a kms stanza.
	var doc yaml.Node
	if err := yaml.Unmarshal(enc, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	meta := root.Content[len(root.Content)-1]
	var ageList *yaml.Node
	for i := 0; i < len(meta.Content); i += 2 {
		if meta.Content[i].Value == "age" {
			ageList = meta.Content[i+1]
			meta.Content[i].Value = "kms"
		}
	}
	ids, err := age.ParseIdentities(bytes.NewReader(ageKey))
	if err != nil {
		t.Fatal(err)
	}
	stanza := ageList.Content[0]
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(stanza.Content[1].Value)), ids...)
	if err != nil {
		t.Fatal(err)
	}
	dataKey, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dataKey {
		dataKey[i] ^= 0x5a
	}
	stanza.Content = []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "arn"}, {Kind: yaml.ScalarNode, Value: "arn:aws:kms:eu-west-1:111:key/test"},
		{Kind: yaml.ScalarNode, Value: "enc"}, {Kind: yaml.ScalarNode, Value: base64.StdEncoding.EncodeToString(dataKey)},
	}
	kmsFile, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}

	withAge := mustNew(t, sops.Options{Keys: sops.Keys{Age: [][]byte{ageKey}}})
	want, err := withAge.Decrypt(context.Background(), "secret.yaml", enc)
	if err != nil {
		t.Fatal(err)
	}
	withKMS := mustNew(t, sops.Options{KeySources: []sops.KeySource{xorKMS{arn: "arn:aws:kms:eu-west-1:111:key/test", key: 0x5a}}})
	got, err := withKMS.Decrypt(context.Background(), "secret.yaml", kmsFile)
	if err != nil {
		t.Fatal(err)
	}
	sameContent(t, "secret.yaml", got, want)
	if _, err := withAge.Decrypt(context.Background(), "secret.yaml", kmsFile); !errors.Is(err, sops.ErrNoKey) {
		t.Errorf("age key on a kms file: got %v, want ErrNoKey", err)
	}
	otherKMS := mustNew(t, sops.Options{KeySources: []sops.KeySource{xorKMS{arn: "arn:aws:kms:eu-west-1:111:key/other", key: 0x5a}}})
	if _, err := otherKMS.Decrypt(context.Background(), "secret.yaml", kmsFile); !errors.Is(err, sops.ErrNoKey) {
		t.Errorf("another KMS key: got %v, want ErrNoKey", err)
	}
	if withKMS.Digest() == otherKMS.Digest() || withKMS.Digest() == mustNew(t, sops.Options{}).Digest() {
		t.Error("the digest does not tell key sources apart")
	}
}
