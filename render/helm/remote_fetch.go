package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/gitopskit/gitopskit/render"
)

// ErrChartNotFound means a repository or registry has no chart of that name, or
// none whose version matches the one asked for.
var ErrChartNotFound = errors.New("chart not found")

// resolvedChart is a chart reference resolved to one version and its digest.
type resolvedChart struct {
	// Ref is the reference as asked for.
	Ref render.HelmChart
	// Version is the version picked.
	Version string
	// URL is the archive's URL in an HTTP repository, or the OCI reference by
	// digest ("oci://registry/charts/web@sha256:…").
	URL string
	// Digest is the archive's sha256 from the repository index (hex, empty when
	// the index has none), or the OCI manifest's digest.
	Digest string
	oci    bool
}

// String names the resolved chart for errors and origins.
func (c resolvedChart) String() string {
	return strings.TrimSuffix(c.Ref.Repository, "/") + "/" + c.Ref.Name + "@" + c.Version
}

// pin identifies the resolved chart in render.Cache keys.
func (c resolvedChart) pin() string {
	return c.URL + " " + c.Version + " " + c.Digest
}

// resolve picks the version of ref, asking the repository or registry unless an
// answer younger than IndexTTL is at hand.
func (r *remote) resolve(ctx context.Context, ref render.HelmChart) (resolvedChart, error) {
	key := ref.Repository + "\x00" + ref.Name + "\x00" + ref.Version
	if r.opts.IndexTTL > 0 {
		r.mu.Lock()
		e, ok := r.resolved[key]
		r.mu.Unlock()
		if ok && time.Since(e.at) < r.opts.IndexTTL {
			return e.ref, nil
		}
	}
	if ref.Name == "" || strings.Contains(ref.Name, "/") {
		return resolvedChart{}, fmt.Errorf("chart %q in %s: invalid chart name", ref.Name, redact(ref.Repository))
	}
	var (
		rc  resolvedChart
		err error
	)
	if strings.HasPrefix(ref.Repository, "oci://") {
		rc, err = r.resolveOCI(ctx, ref)
	} else {
		rc, err = r.resolveHTTP(ctx, ref)
	}
	if err != nil {
		return resolvedChart{}, err
	}
	rc.Ref = ref
	if r.opts.IndexTTL > 0 {
		r.mu.Lock()
		r.resolved[key] = resolvedEntry{ref: rc, at: time.Now()}
		r.mu.Unlock()
	}
	return rc, nil
}

// fetch returns the archive of rc, from the cache directory or downloaded (and
// then kept there).
func (r *remote) fetch(ctx context.Context, rc resolvedChart, log logr.Logger) ([]byte, error) {
	file := r.cacheFile(rc)
	if file != "" {
		data, err := r.readCached(file, rc)
		if err == nil {
			log.V(1).Info("chart from cache", "chart", rc.String(), "file", file)
			return data, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			log.Info("ignoring cached chart", "chart", rc.String(), "error", err.Error())
		}
	}
	log.V(1).Info("downloading chart", "chart", rc.String(), "url", redact(rc.URL))
	var (
		data []byte
		err  error
	)
	if rc.oci {
		data, err = r.pullOCI(ctx, rc)
	} else {
		data, err = r.get(ctx, rc.URL, r.opts.MaxChartBytes)
		if err == nil {
			err = checkDigest(data, rc)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", rc, err)
	}
	if file != "" {
		if err := writeCached(file, data); err != nil {
			log.Info("cannot cache chart", "chart", rc.String(), "error", err.Error())
		}
	}
	return data, nil
}

// chart resolves, fetches and unpacks ref, with at most maxBytes unpacked.
func (r *remote) chart(ctx context.Context, ref render.HelmChart, maxBytes int64, log logr.Logger) (Chart, resolvedChart, error) {
	rc, err := r.resolve(ctx, ref)
	if err != nil {
		return Chart{}, rc, err
	}
	data, err := r.fetch(ctx, rc, log)
	if err != nil {
		return Chart{}, rc, err
	}
	files, err := readArchive(data, rc.String(), maxBytes)
	if err != nil {
		return Chart{}, rc, err
	}
	return Chart{Dir: rc.String(), Files: files}, rc, nil
}

// cacheFile is the file in CacheDir for rc, or "" when it cannot be cached: no
// cache directory, or an HTTP chart whose index gives no digest to check it by.
func (r *remote) cacheFile(rc resolvedChart) string {
	if r.opts.CacheDir == "" || rc.Digest == "" {
		return ""
	}
	h := sha256.Sum256([]byte(rc.URL + "\x00" + rc.Version + "\x00" + rc.Digest))
	return filepath.Join(r.opts.CacheDir, hex.EncodeToString(h[:])+".tgz")
}

func (r *remote) readCached(file string, rc resolvedChart) ([]byte, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if fi.Size() > r.opts.MaxChartBytes {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", file, render.ErrLimit, r.opts.MaxChartBytes)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if !rc.oci {
		if err := checkDigest(data, rc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	return data, nil
}

// writeCached writes data to file through a temporary file, so that a reader
// never sees part of an archive.
func writeCached(file string, data []byte) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".chart-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// checkDigest compares data with the sha256 the repository index gives for it.
func checkDigest(data []byte, rc resolvedChart) error {
	if rc.Digest == "" {
		return nil
	}
	sum := sha256.Sum256(data)
	want := strings.TrimPrefix(rc.Digest, "sha256:")
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("archive digest sha256:%s, the repository index says sha256:%s", got, want)
	}
	return nil
}
