package kustomize

import (
	"strings"
	"testing"
)

// FuzzRemotePluginFile: any input is read without a panic, and what is found is
// an http(s) URL written in the input.
func FuzzRemotePluginFile(f *testing.F) {
	for _, s := range []string{
		"kind: PatchTransformer\npath: http://h/p\n",
		"kind: ReplacementTransformer\nreplacements:\n- path: https://h/r\n",
		"kind: ConfigMapGenerator\nfiles:\n- k=http://h/f\n",
		"kind: List\nitems:\n- kind: PatchStrategicMergeTransformer\n  paths: [http://h/p]\n",
		"kind: SecretGenerator\nenvs: [./local.env]\n---\nkind: Generator\npath: ://\n",
		"[1, 2]\n", "a: b: c\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref := remotePluginFile([]byte(s))
		if ref == "" {
			return
		}
		if !isHTTP(ref) {
			t.Fatalf("remotePluginFile(%q) = %q, not an http(s) URL", s, ref)
		}
		if !strings.Contains(s, strings.TrimSpace(ref)[:4]) {
			t.Fatalf("remotePluginFile(%q) = %q, not in the input", s, ref)
		}
	})
}
