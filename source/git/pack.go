package git

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// A fetched pack is checked against Options.MaxSize while it is received, before
// go-git stores it: go-git reads a whole object into memory to index it (and a
// delta's base, and each base of a chain), and keeps a thin pack's objects in
// memory until it is complete (see stagedObjects), so a small pack of a large
// object (a GiB of zeros compresses to a MiB) would cost its inflated size in
// memory, several times over, before the checkout refuses it.
//
// The headers in a pack say, before any inflation, how large each object is:
// an object's header gives its inflated size, and a delta's data starts with the
// size of the object it makes. A pack is refused as soon as one of them exceeds
// the limit, or all of them together do, each also counting packEntryCost.

// packEntryCost is what an object costs go-git to index beyond its content (its
// bookkeeping), counted in a pack's total so that millions of empty objects are
// bounded too.
const packEntryCost = 256

// packCheck checks the pack stream written to it. Write returns once its bytes
// are checked, so whatever reads the stream after it never sees the header of an
// object over the limit, nor the bytes of an object that inflates past the size
// its header declares. Close ends the stream and must be called.
type packCheck struct {
	chunks chan []byte
	more   chan struct{} // the checker has checked every byte written so far
	done   chan struct{} // closed when the checker returns, err then set
	err    error
	wrote  bool
	closed bool
}

func newPackCheck(limit int64) *packCheck {
	c := &packCheck{chunks: make(chan []byte), more: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.err = checkPack(packfile.NewScanner(&chunkReader{c: c}), limit)
	}()
	return c
}

func (c *packCheck) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.wrote = true
	select {
	case c.chunks <- p:
	case <-c.done:
		return c.finished(p)
	}
	select {
	case <-c.more:
		return len(p), nil
	case <-c.done:
		return c.finished(p)
	}
}

// finished answers a write after the checker returned: with its error, or, past
// the pack's checksum, by letting the bytes through for go-git to judge.
func (c *packCheck) finished(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	return len(p), nil
}

// Close ends the stream and returns the checker's verdict; a stream that ends
// before its pack does is an error. An empty stream is left to go-git.
func (c *packCheck) Close() error {
	if !c.closed {
		c.closed = true
		close(c.chunks)
	}
	<-c.done
	if !c.wrote {
		return nil
	}
	return c.err
}

// chunkReader is the checker's side of a packCheck.
type chunkReader struct {
	c       *packCheck
	cur     []byte
	started bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.started {
			r.c.more <- struct{}{} // the writer waits for this after each chunk
		}
		r.started = true
		cur, ok := <-r.c.chunks
		if !ok {
			return 0, io.EOF
		}
		r.cur = cur
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// checkPack reads a pack, inflating each object to find the next one (into
// nothing: it holds no object), and fails with ErrSizeLimit as soon as an
// object's declared size, a delta's target size or the running total exceeds
// limit.
func checkPack(sc *packfile.Scanner, limit int64) error {
	_, count, err := sc.Header()
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	var total int64
	for i := uint32(1); i <= count; i++ {
		h, err := sc.NextObjectHeader()
		if err != nil {
			return fmt.Errorf("pack object %d of %d: %w", i, count, err)
		}
		o := packObject{h: h, n: i, count: count}
		// Each object is counted before its bytes go on: at its header, or a
		// delta once the start of its data gives the size it makes.
		add := func(size int64) error {
			if size > limit {
				return o.tooLarge(size, limit)
			}
			if total += size + packEntryCost; total > limit {
				return fmt.Errorf("pack objects 1 to %d of %d: more than %d bytes together: %w (%d bytes)", i, count, limit, ErrSizeLimit, limit)
			}
			return nil
		}
		if h.Length > limit {
			return o.tooLarge(h.Length, limit)
		}
		var w io.Writer = io.Discard
		d := &deltaHeader{check: add}
		if h.Type.IsDelta() {
			w = d
		} else if err := add(h.Length); err != nil {
			return err
		}
		if _, _, err := sc.NextObject(w); err != nil {
			if errors.Is(err, ErrSizeLimit) {
				return err
			}
			return fmt.Errorf("%s: %w", o, err)
		}
		if h.Type.IsDelta() && d.n < 2 {
			return fmt.Errorf("%s: %w: truncated delta header", o, packfile.ErrMalformedPackFile)
		}
	}
	if _, err := sc.Checksum(); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	return nil
}

// packObject names an object of a pack in errors. Its id is not known before it
// is inflated; a delta names its base.
type packObject struct {
	h        *packfile.ObjectHeader
	n, count uint32
}

func (o packObject) String() string {
	kind := o.h.Type.String()
	switch o.h.Type {
	case plumbing.REFDeltaObject:
		kind = "delta on " + o.h.Reference.String()
	case plumbing.OFSDeltaObject:
		kind = fmt.Sprintf("delta on the object at offset %d", o.h.OffsetReference)
	}
	return fmt.Sprintf("pack object %d of %d (%s at offset %d)", o.n, o.count, kind, o.h.Offset)
}

func (o packObject) tooLarge(size, limit int64) error {
	return fmt.Errorf("%s: %d bytes: %w (%d bytes)", o, size, ErrSizeLimit, limit)
}

// deltaHeader reads the two sizes a delta's data starts with (its base's and its
// target's, each a little-endian base-128 number) and discards the rest.
type deltaHeader struct {
	vals  [2]int64
	shift uint
	n     int // sizes complete
	check func(target int64) error
}

func (d *deltaHeader) Write(p []byte) (int, error) {
	for _, b := range p {
		if d.n == 2 {
			break
		}
		if d.shift > 63-7 {
			return 0, fmt.Errorf("%w: delta size overflows", packfile.ErrMalformedPackFile)
		}
		d.vals[d.n] |= int64(b&0x7f) << d.shift
		d.shift += 7
		if b&0x80 != 0 {
			continue
		}
		d.n, d.shift = d.n+1, 0
		if d.n == 2 {
			if err := d.check(d.vals[1]); err != nil {
				return 0, err
			}
		}
	}
	return len(p), nil
}

// checkedReader passes on r's bytes once c has checked them.
type checkedReader struct {
	r io.Reader
	c *packCheck
}

func (cr checkedReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	if n > 0 {
		if _, cerr := cr.c.Write(p[:n]); cerr != nil {
			return 0, cerr
		}
	}
	if err == io.EOF {
		if cerr := cr.c.Close(); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}

// checkedStorage is the cache whose pack writer checks what is written to it
// against limit: go-git's Remote stores the packs it fetches through it.
type checkedStorage struct {
	*filesystem.Storage
	limit int64
}

func (s checkedStorage) PackfileWriter() (io.WriteCloser, error) {
	w, err := s.Storage.PackfileWriter()
	if err != nil {
		return nil, err
	}
	return &checkedWriter{w: w, c: newPackCheck(s.limit)}, nil
}

// checkedWriter passes bytes on to w once c has checked them.
type checkedWriter struct {
	w io.WriteCloser
	c *packCheck
}

func (cw *checkedWriter) Write(p []byte) (int, error) {
	if _, err := cw.c.Write(p); err != nil {
		return 0, err
	}
	return cw.w.Write(p)
}

func (cw *checkedWriter) Close() error {
	cerr := cw.c.Close()
	if err := cw.w.Close(); cerr == nil {
		return err
	}
	return cerr
}

// removeTempPacks deletes the partial packs go-git's pack writer leaves behind
// when a fetch fails. The caller holds the cache lock: nothing else writes one.
func removeTempPacks(st *filesystem.Storage) {
	fs := st.Filesystem()
	dir := fs.Join("objects", "pack")
	entries, err := fs.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tmp_") {
			_ = fs.Remove(fs.Join(dir, e.Name()))
		}
	}
}
