package yamlcheck

import (
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

func TestTooBig(t *testing.T) {
	for text, want := range map[string]bool{
		"9223372036854775807":           false,
		"9223372036854775808":           true,
		"-9223372036854775808":          false,
		"-9223372036854775809":          true,
		"+9223372036854775808":          true,
		"00000000000000000001":          false,
		"0x7FFFFFFFFFFFFFFF":            false,
		"0x8000000000000000":            true,
		"1_000_000_000_000_000_000_000": true,
		"99999999999999999999":          true,
		"1e20":                          false,
		"100000000000000000000.0":       false,
		"1.5e300":                       false,
		"12345678901234567890abc":       false,
		"2001-12-14t21:59:43.10-05:00":  false,
		"18446744073709551615":          true,
		"0xFFFFFFFFFFFFFFFF":            true,
		"0xFFFFFFFFFFFFFFFFFF":          false, // a string to go-yaml
		"-0x8000000000000001":           false, // a string to go-yaml
	} {
		if got := TooBig(text); got != want {
			t.Errorf("TooBig(%s) = %v, want %v", text, got, want)
		}
	}
}

func TestKey11(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("{1: a, '1': b, yes: c, 'yes': d, 1.0: e, ~: f, !!str 2: g, 0x1F: h}"), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	m := doc.Content[0]
	for i := 0; i < len(m.Content); i += 2 {
		got = append(got, Key11(m.Content[i]))
	}
	want := []string{"1", "1", "true", "yes", "1", "~", "2", "31"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("key %d: %q, want %q", i, got[i], want[i])
		}
	}
}
