package update

import (
	"errors"
	"testing"
)

func TestPolicyLatest(t *testing.T) {
	semver := func(r string, pre bool) *SemVer { return &SemVer{Range: r, Prereleases: pre} }
	asc, desc := &Ordering{}, &Ordering{Order: Descending}
	tags := []string{"latest", "1.0.0", "v1.2.0", "1.10.1", "1.11.0-rc.1", "2.0.0-beta", "1.9", "sha-abc"}
	for _, tc := range []struct {
		name string
		p    Policy
		tags []string
		want string
		err  error
	}{
		{"semver any", Policy{SemVer: semver(">=0", false)}, tags, "1.10.1", nil},
		{"semver range", Policy{SemVer: semver("~1.2", false)}, tags, "v1.2.0", nil},
		{"semver prereleases when asked", Policy{SemVer: semver(">=1.0.0", true)}, tags, "2.0.0-beta", nil},
		{"semver prerelease range", Policy{SemVer: semver(">=1.11.0-0 <1.12.0", false)}, tags, "1.11.0-rc.1", nil},
		{"semver short version", Policy{SemVer: semver("1.9.x", false)}, tags, "1.9", nil},
		{"semver equal versions tie to the last tag", Policy{SemVer: semver("1.0.0", false)}, []string{"v1.0.0", "1.0.0"}, "v1.0.0", nil},
		{"semver none", Policy{SemVer: semver(">=3", false)}, tags, "", ErrNoTag},
		{"numerical asc", Policy{Numerical: asc}, []string{"9", "10", "2", "x", "1.5"}, "10", nil},
		{"numerical desc", Policy{Numerical: desc}, []string{"9", "10", "2", "x", "1.5"}, "1.5", nil},
		{"numerical no numbers", Policy{Numerical: asc}, []string{"a", "NaN"}, "", ErrNoTag},
		{"alphabetical asc", Policy{Alphabetical: asc}, []string{"RELEASE.2024-01-02", "RELEASE.2025-03-01", "RELEASE.2023-12-31"}, "RELEASE.2025-03-01", nil},
		{"alphabetical desc", Policy{Alphabetical: desc}, []string{"b", "a", "c"}, "a", nil},
		{"alphabetical empty", Policy{Alphabetical: asc}, nil, "", ErrNoTag},
		{"filter and extract numerical", Policy{
			Numerical:  asc,
			FilterTags: &TagFilter{Pattern: `^main-[a-f0-9]+-(?P<ts>[0-9]+)$`, Extract: "$ts"},
		}, []string{"main-aaa1-100", "main-bbb2-99", "main-ccc3-1000", "dev-ddd4-5000", "main-zzz-1"}, "main-ccc3-1000", nil},
		{"filter and extract semver", Policy{
			SemVer:     semver(">=1.0.0", false),
			FilterTags: &TagFilter{Pattern: `^app-(v[0-9.]+)$`, Extract: "${1}"},
		}, []string{"app-v1.2.0", "app-v1.10.0", "other-v9.0.0", "app-v1.9.0"}, "app-v1.10.0", nil},
		{"filter without extract", Policy{
			Alphabetical: asc,
			FilterTags:   &TagFilter{Pattern: `^stable-`},
		}, []string{"stable-a", "stable-b", "unstable-z"}, "stable-b", nil},
		{"filter leaves nothing", Policy{Alphabetical: asc, FilterTags: &TagFilter{Pattern: `^x`}}, []string{"a"}, "", ErrNoTag},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Name, tc.p.Image = "apps:app", "registry.example.com/app"
			got, err := tc.p.Latest(tc.tags)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("Latest = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
			// The order of tags never matters.
			rev := append([]string(nil), tc.tags...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			if again, _ := tc.p.Latest(rev); again != got {
				t.Fatalf("reversed tags: %q, want %q", again, got)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	ok := Policy{Name: "a", Image: "nginx", Alphabetical: &Ordering{}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Policy{
		"no name":       {Image: "nginx", Alphabetical: &Ordering{}},
		"no image":      {Name: "a", Alphabetical: &Ordering{}},
		"bad image":     {Name: "a", Image: "UPPER/Case::", Alphabetical: &Ordering{}},
		"no ordering":   {Name: "a", Image: "nginx"},
		"two orderings": {Name: "a", Image: "nginx", Alphabetical: &Ordering{}, Numerical: &Ordering{}},
		"bad order":     {Name: "a", Image: "nginx", Numerical: &Ordering{Order: "up"}},
		"bad range":     {Name: "a", Image: "nginx", SemVer: &SemVer{Range: ">>1"}},
		"bad pattern":   {Name: "a", Image: "nginx", Alphabetical: &Ordering{}, FilterTags: &TagFilter{Pattern: "("}},
		"empty semver":  {Name: "a", Image: "nginx", SemVer: &SemVer{}},
	} {
		err := p.Validate()
		if !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("%s: Validate = %v, want ErrInvalidPolicy", name, err)
		}
		if _, err := p.Latest([]string{"1"}); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("%s: Latest = %v, want ErrInvalidPolicy", name, err)
		}
	}
}
