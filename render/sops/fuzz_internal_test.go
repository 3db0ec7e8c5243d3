package sops

import (
	"bytes"
	"testing"
)

// FuzzValue parses and decrypts ENC[…] values: never a panic, and an error
// never quotes the value.
func FuzzValue(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	f.Add("ENC[AES256_GCM,data:7vdIto2W2A==,iv:Z2wdFYH12gVqmGOU59rl1hIdW9BvC9UQlGdQSlNu77c=,tag:0ABTlWpOtZtbLqu2Bm/Dmw==,type:str]", "stringData:password:")
	f.Add("ENC[AES256_GCM,data:,iv:AA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:comment]", ":")
	f.Add("ENC[AES256_GCM,data:AA==,iv:,tag:AA==,type:int", "a:")
	f.Fuzz(func(t *testing.T, s, aad string) {
		_, err := decryptValue(s, key, aad)
		if err != nil && len(s) > 8 && bytes.Contains([]byte(err.Error()), []byte(s)) {
			t.Fatalf("error quotes the value: %v", err)
		}
	})
}
