package git

import (
	"testing"
	"time"
)

// Validate only checks; WithDefaults fills, on a copy.
func TestOptionsValidateAndDefaults(t *testing.T) {
	o := Options{URL: "https://example.com/app.git", CacheDir: t.TempDir(), MaxSize: 5}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	d := o.WithDefaults()
	if o.Timeout != 0 || o.KeepArtifacts != 0 {
		t.Errorf("WithDefaults changed its receiver: %+v", o)
	}
	if d.MaxSize != 5 || d.Timeout != 5*time.Minute || d.KeepArtifacts != 3 {
		t.Errorf("defaults: MaxSize %d, Timeout %s, KeepArtifacts %d; want 5 (set), 5m, 3", d.MaxSize, d.Timeout, d.KeepArtifacts)
	}
	if err := (Options{CacheDir: "x"}).Validate(); err != ErrMissingURL {
		t.Errorf("no URL: %v, want ErrMissingURL", err)
	}
}
