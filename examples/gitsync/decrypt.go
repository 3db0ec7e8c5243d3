package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/sops"
)

// decrypting wraps r so that it decrypts SOPS-encrypted files with the keys at
// path: a directory holding *.agekey (age identities) and *.asc (armored
// OpenPGP private keys) files, as a Flux decryption Secret mounted as a volume
// has them, or one such file. With path empty it returns r. Errors name the
// file, never a key.
func decrypting(r render.Renderer, path string) (render.Renderer, error) {
	if path == "" {
		return r, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--decryption-keys: %w", err)
	}
	files := []string{path}
	if fi.IsDir() {
		if files, err = filepath.Glob(filepath.Join(path, "*")); err != nil {
			return nil, fmt.Errorf("--decryption-keys: %w", err)
		}
	}
	data := map[string][]byte{}
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || !fi.Mode().IsRegular() {
			continue // a mounted Secret's ..data link and directories
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--decryption-keys: %w", err)
		}
		data[filepath.Base(f)] = b
	}
	keys := sops.KeysFromData(data)
	if len(keys.Age)+len(keys.PGP) == 0 {
		return nil, fmt.Errorf("--decryption-keys %s: no *.agekey or *.asc file", path)
	}
	d, err := sops.New(sops.Options{Keys: keys})
	if err != nil {
		return nil, fmt.Errorf("--decryption-keys %s: %w", path, err)
	}
	return sops.NewRenderer(r, d), nil
}
