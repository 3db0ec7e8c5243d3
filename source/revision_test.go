package source

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRevision(t *testing.T) {
	h1 := strings.Repeat("ab", 20)
	h256 := strings.Repeat("0f", 32)
	for _, tc := range []struct {
		in   string
		want Revision
		err  bool
	}{
		{in: "main@sha1:" + h1, want: Revision{Ref: "main", Algorithm: "sha1", Hash: h1}},
		{in: "v1.2.0@sha1:" + h1, want: Revision{Ref: "v1.2.0", Algorithm: "sha1", Hash: h1}},
		{in: "refs/pull/1/head@sha1:" + h1, want: Revision{Ref: "refs/pull/1/head", Algorithm: "sha1", Hash: h1}},
		{in: "a@b@sha1:" + h1, want: Revision{Ref: "a@b", Algorithm: "sha1", Hash: h1}},
		{in: "sha1:" + h1, want: Revision{Algorithm: "sha1", Hash: h1}},
		{in: "sha256:" + h256, want: Revision{Algorithm: "sha256", Hash: h256}},
		{in: "", err: true},
		{in: "main", err: true},
		{in: "@sha1:" + h1, err: true},
		{in: "main@md5:" + h1, err: true},
		{in: "main@sha1:" + h1[:39], err: true},
		{in: "main@sha1:" + strings.ToUpper(h1), err: true},
		{in: "sha256:" + h1, err: true},
	} {
		got, err := ParseRevision(tc.in)
		if tc.err {
			if !errors.Is(err, ErrInvalidRevision) {
				t.Errorf("ParseRevision(%q) = %v, %v; want ErrInvalidRevision", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRevision(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
	}
}

func FuzzParseRevision(f *testing.F) {
	f.Add("main@sha1:" + strings.Repeat("ab", 20))
	f.Add("sha256:" + strings.Repeat("0f", 32))
	f.Add("a@@sha1:")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRevision(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRevision) {
				t.Fatalf("error %v does not wrap ErrInvalidRevision", err)
			}
			return
		}
		if r.String() != s {
			t.Fatalf("round trip: %q -> %q", s, r.String())
		}
	})
}
