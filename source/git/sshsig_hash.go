package git

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"strings"
)

func hashMessage(algo string, message []byte) ([]byte, error) {
	switch algo {
	case "sha256":
		h := sha256.Sum256(message)
		return h[:], nil
	case "sha512":
		h := sha512.Sum512(message)
		return h[:], nil
	}
	return nil, fmt.Errorf("SSH signature: unsupported hash algorithm %q", algo)
}

func decodeBase64Lines(body string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
}
