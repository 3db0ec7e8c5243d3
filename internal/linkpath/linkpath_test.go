package linkpath

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

func TestResolve(t *testing.T) {
	tree := map[string]Entry{
		"d":        {Exists: true, Dir: true},
		"d/f":      {Exists: true},
		"d/up":     {Exists: true, Link: true, Target: "../d/f"},
		"d/out":    {Exists: true, Link: true, Target: "../../etc"},
		"d/abs":    {Exists: true, Link: true, Target: "/root/d/f"},
		"d/absout": {Exists: true, Link: true, Target: "/etc/passwd"},
		"d/loop":   {Exists: true, Link: true, Target: "loop"},
		"d/gone":   {Exists: true, Link: true, Target: "missing/x"},
	}
	lookup := func(p string) (Entry, error) { return tree[p], nil }
	inside := func(t string) (string, bool) {
		r, ok := strings.CutPrefix(t, "/root/")
		return r, ok
	}
	for _, tc := range []struct {
		name string
		opts Options
		want string
		err  error
	}{
		{name: ".", want: "."},
		{name: "d/up", opts: Options{FollowLast: true}, want: "d/f"},
		{name: "d/up", want: "d/up"},
		{name: "d/out", opts: Options{FollowLast: true}, err: ErrEscape},
		{name: "..", err: ErrEscape},
		{name: "d/abs", opts: Options{FollowLast: true}, err: ErrEscape},
		{name: "d/abs", opts: Options{FollowLast: true, Inside: inside}, want: "d/f"},
		{name: "d/absout", opts: Options{FollowLast: true, Inside: inside}, err: ErrEscape},
		{name: "d/loop", opts: Options{FollowLast: true}, err: ErrLoop},
		{name: "d/gone", opts: Options{FollowLast: true}, err: fs.ErrNotExist},
		{name: "d/gone", opts: Options{FollowLast: true, Lexical: true}, want: "d/missing/x"},
		{name: "d/f/x", err: syscall.ENOTDIR},
	} {
		got, err := Resolve(tc.name, lookup, tc.opts)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("Resolve(%q, %+v) = %q, %v; want %q, %v", tc.name, tc.opts, got, err, tc.want, tc.err)
		}
	}
}
