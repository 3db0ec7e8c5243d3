package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
)

// Digest returns "sha256:<hex>" over the files of fsys, walked in lexical order.
// Each regular file contributes its path, whether it is executable and the SHA-256
// of its content; each symbolic link its path and target (when fsys implements
// [fs.ReadLinkFS]); directories contribute only through what they hold. Timestamps
// and ownership are ignored, so the same tree checked out twice has the same digest.
func Digest(ctx context.Context, fsys fs.FS) (string, error) {
	sum := sha256.New()
	content := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			if rl, ok := fsys.(fs.ReadLinkFS); ok {
				target, err := rl.ReadLink(p)
				if err != nil {
					return err
				}
				fmt.Fprintf(sum, "l %s\x00%s\n", p, target)
				return nil
			}
		case !t.IsRegular():
			return fmt.Errorf("%s: unsupported file type %s", p, t)
		}
		kind := "f"
		if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
			kind = "x"
		}
		h, err := hashFile(fsys, p, content)
		if err != nil {
			return err
		}
		fmt.Fprintf(sum, "%s %s\x00%s\n", kind, p, h)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	return "sha256:" + hex.EncodeToString(sum.Sum(nil)), nil
}

func hashFile(fsys fs.FS, p string, h hash.Hash) (string, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h.Reset()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
