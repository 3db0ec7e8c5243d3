package sops

import (
	"bytes"
	"context"
	"crypto/sha512"
	"fmt"
	"hash"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gitopskit/gitopskit/internal/logging"
)

// IsEncrypted reports whether data, the content of the file name, holds SOPS
// metadata, so that [Decryptor.Decrypt] would decrypt it. It does not check the
// metadata.
func IsEncrypted(name string, data []byte) bool {
	f, err := formatOf(name, data)
	if err != nil {
		return true
	}
	if f == formatNone {
		return false
	}
	docs, _, err := parse(f, data)
	if err != nil {
		return false
	}
	for _, d := range docs {
		if d.meta != nil {
			return true
		}
	}
	return false
}

// Decrypt returns the content of the file name decrypted, when data holds SOPS
// metadata, in the format SOPS would write it with `sops -d`: YAML (every
// document), JSON, dotenv, or the bytes of a binary file. It returns data
// itself when data holds no SOPS metadata. name, the file's path, chooses the
// format by its extension as SOPS does (.yaml, .yml, .json, .env; any other is
// binary unless its content is YAML or dotenv) and names the file in errors.
//
// A YAML file whose first document holds the metadata is one SOPS tree, every
// document under the first's data key and MAC, as `sops -e` writes a file of
// several documents. A file of documents each with metadata of its own
// (encrypted files joined) has each decrypted alone; documents without
// metadata are kept as they are.
//
// It fails with an error naming the file, and the document when the file has
// several, wrapping [ErrNoKey] when no key opens the data key, [ErrMAC] when
// the MAC or a value does not verify, [ErrInvalid] when the metadata or a value
// is malformed, and [ErrUnsupported]. Errors and logs never hold a decrypted
// value.
func (d *Decryptor) Decrypt(ctx context.Context, name string, data []byte) ([]byte, error) {
	out, ok, err := d.decryptFile(ctx, name, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !ok {
		return data, nil
	}
	logging.From(ctx, d.opts.Logger).V(1).Info("sops: decrypted", "file", name)
	return out, nil
}

func (d *Decryptor) decryptFile(ctx context.Context, name string, data []byte) ([]byte, bool, error) {
	if int64(len(data)) > d.maxSize {
		if f, _ := formatOf(name, data); f == formatNone {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalid, len(data), d.maxSize)
	}
	f, err := formatOf(name, data)
	if err != nil || f == formatNone {
		return nil, false, err
	}
	docs, f, err := parse(f, data)
	if err != nil {
		if !bytes.Contains(data, []byte(encPrefix)) {
			return nil, false, nil // not SOPS: a template, a file of another syntax
		}
		return nil, false, err
	}
	var groups [][]int // documents decrypted together
	switch {
	case len(docs) == 0 || !anyMeta(docs):
		return nil, false, nil
	case docs[0].meta != nil && sameMeta(docs):
		all := make([]int, len(docs))
		for i := range all {
			all[i] = i
		}
		groups = [][]int{all}
	default:
		for i, doc := range docs {
			if doc.meta != nil {
				groups = append(groups, []int{i})
			}
		}
	}
	for _, g := range groups {
		if err := d.decryptDocs(ctx, docs, g, f); err != nil {
			if len(docs) > 1 && len(g) == 1 {
				return nil, false, fmt.Errorf("document %d (line %d): %w", g[0]+1, docs[g[0]].line, err)
			}
			return nil, false, err
		}
	}
	out, err := emit(f, docs)
	return out, err == nil, err
}

func anyMeta(docs []document) bool {
	for _, d := range docs {
		if d.meta != nil {
			return true
		}
	}
	return false
}

// sameMeta reports whether every document after the first holds the first's
// metadata or none: one SOPS tree.
func sameMeta(docs []document) bool {
	for _, d := range docs[1:] {
		if d.meta != nil && !reflect.DeepEqual(d.meta, docs[0].meta) {
			return false
		}
	}
	return true
}

// decryptDocs decrypts the documents at idx, one SOPS tree, in place, and
// checks its MAC.
func (d *Decryptor) decryptDocs(ctx context.Context, docs []document, idx []int, f format) error {
	md, err := parseMetadata(docs[idx[0]].meta)
	if err != nil {
		return err
	}
	key, err := d.dataKey(ctx, md)
	if err != nil {
		return err
	}
	w := walker{md: md, key: key, hash: sha512.New(), typed: f != formatDotenv}
	if md.macOnlyEnc {
		w.hash.Write(macOnlyEncryptedInit)
	}
	for _, i := range idx {
		if err := w.node(docs[i].root, nil); err != nil {
			if len(docs) > 1 && len(idx) > 1 {
				return fmt.Errorf("document %d (line %d): %w", i+1, docs[i].line, err)
			}
			return err
		}
	}
	if err := checkMAC(md, key, w.hash.Sum(nil)); err != nil {
		if len(idx) > 1 {
			return fmt.Errorf("the %d documents: %w", len(idx), err)
		}
		return err
	}
	if f == formatDotenv {
		decryptComments(docs[0].comments, md, key)
	}
	if f == formatBinary {
		if n := docs[0].root.Content[1]; n.Kind != yaml.ScalarNode {
			return fmt.Errorf("%w: binary file: data is not a string", ErrInvalid)
		}
	}
	return nil
}

// decryptComments decrypts the comment lines of a dotenv file SOPS encrypted.
// As SOPS does, a comment that does not decrypt is taken as written unencrypted;
// comments are not part of the MAC.
func decryptComments(comments map[int][]string, md *metadata, key []byte) {
	if !md.match.encrypted(nil) {
		return
	}
	for _, lines := range comments {
		for i, c := range lines {
			if p, err := decryptValue(c, key, aad(nil)); err == nil && p.typ == "comment" {
				lines[i] = p.text
			}
		}
	}
}

// walker decrypts the values of one SOPS tree in place and hashes them for its
// MAC, in the order SOPS does.
type walker struct {
	md    *metadata
	key   []byte
	hash  hash.Hash
	typed bool // values other than strings exist (not dotenv)
}

func (w *walker) node(n *yaml.Node, path []string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := w.node(c, path); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("%w: %s: a key that is not a string", ErrInvalid, pathString(path))
			}
			if seen[k.Value] {
				return fmt.Errorf("%w: %s: key %q twice", ErrInvalid, pathString(path), k.Value)
			}
			seen[k.Value] = true
			if err := w.node(n.Content[i+1], append(path[:len(path):len(path)], k.Value)); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := w.node(c, path); err != nil {
				return err
			}
		}
	case yaml.AliasNode:
		return fmt.Errorf("%w: %s: YAML alias in an encrypted document", ErrUnsupported, pathString(path))
	case yaml.ScalarNode:
		return w.scalar(n, path)
	}
	return nil
}

func (w *walker) scalar(n *yaml.Node, path []string) error {
	if n.Tag == "!!null" || (w.typed && n.ShortTag() == "!!null") {
		return nil // SOPS neither decrypts nor hashes a null
	}
	enc := w.md.match.encrypted(path)
	var macBytes []byte
	if enc {
		if n.ShortTag() != "!!str" {
			return fmt.Errorf("%w: %s: not encrypted", ErrInvalid, pathString(path))
		}
		p, err := decryptValue(n.Value, w.key, aad(path))
		if err != nil {
			return fmt.Errorf("%s: %w", pathString(path), err)
		}
		if p.typ == "comment" {
			return fmt.Errorf("%w: %s: a comment where a value belongs", ErrInvalid, pathString(path))
		}
		if macBytes, err = p.macBytes(); err != nil {
			return fmt.Errorf("%s: %w", pathString(path), err)
		}
		setPlain(n, p)
	} else if !w.md.macOnlyEnc {
		var err error
		if macBytes, err = w.plainBytes(n); err != nil {
			return fmt.Errorf("%s: %w", pathString(path), err)
		}
	}
	if !w.md.macOnlyEnc || enc {
		w.hash.Write(macBytes)
	}
	return nil
}

// plainBytes returns the bytes SOPS hashes for an unencrypted value: the value
// as the YAML library types it, printed.
func (w *walker) plainBytes(n *yaml.Node) ([]byte, error) {
	if !w.typed {
		return []byte(n.Value), nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case int:
		return []byte(strconv.Itoa(v)), nil
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case bool:
		return boolBytes(v), nil
	case time.Time:
		return v.MarshalText()
	case []byte:
		return v, nil
	}
	return nil, fmt.Errorf("%w: a value of type %T", ErrUnsupported, v)
}

// setPlain makes n the scalar p.
func setPlain(n *yaml.Node, p plain) {
	n.Style = 0
	n.Value = p.text
	switch p.typ {
	case "int":
		n.Tag = "!!int"
		n.Value = strconv.FormatInt(p.value().(int64), 10)
	case "float":
		n.Tag = "!!float"
		n.Value = strconv.FormatFloat(p.value().(float64), 'f', -1, 64)
	case "bool":
		n.Tag = "!!bool"
		n.Value = strconv.FormatBool(p.value().(bool))
	case "time":
		n.Tag = "!!timestamp"
	default:
		// Quoted, so that no reader takes it for another type: "y", "on" and
		// "0777" are strings in YAML 1.2 but not in 1.1, which object.Decode
		// refuses to guess.
		n.Tag = "!!str"
		n.Style = yaml.DoubleQuotedStyle
	}
}

// pathString prints a path for errors: "data.password", "." for the root.
func pathString(path []string) string {
	if len(path) == 0 {
		return "."
	}
	return strings.Join(path, ".")
}
