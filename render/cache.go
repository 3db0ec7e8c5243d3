package render

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
)

// DefaultCacheSize is the number of results a [Cache] keeps by default.
const DefaultCacheSize = 64

// Cache is a [Renderer] that remembers the results of another: rendering the same
// directory of the same artifact (Input.Dir and Input.Digest) with the same
// options returns the remembered result without rendering again. Inputs with an
// empty Digest and failed renders are never cached. When the renderer is a
// [Pinner], the key also holds what Pin returns, so results that depend on remote
// content (a chart version constraint) are rendered again once it resolves to
// something new. It keeps the most recently used results up to its size.
//
// Results are deep copies, so callers may transform them in place. Copying is most
// of the cost of a hit, so the copy the next hit of the most recently used result
// hands out is made ahead of time, in the background, after the render and after
// each hit: a loop that renders the same revision again finds it ready. A Cache is
// safe for concurrent use; concurrent renders of the same key each render.
type Cache struct {
	next Renderer
	size int

	mu      sync.Mutex
	order   *list.List // of *cacheEntry, most recently used first
	entries map[string]*list.Element
	ahead   *cacheEntry // the entry whose next copy is made ahead of time
	hits    uint64
	misses  uint64
}

type cacheEntry struct {
	key string
	res *Result // never changed

	// Guarded by Cache.mu.
	next    *Result // a copy of res no caller has seen, for the next hit
	copying bool    // a goroutine is making next
}

// NewCache returns a cache of at most size results in front of r (size <= 0 means
// [DefaultCacheSize]).
func NewCache(r Renderer, size int) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Cache{next: r, size: size, order: list.New(), entries: map[string]*list.Element{}}
}

// Render returns the cached result for in and opts, or renders it with the
// underlying renderer and caches it when in.Digest is set.
func (c *Cache) Render(ctx context.Context, in Input, opts Options) (*Result, error) {
	if in.Digest == "" {
		return c.next.Render(ctx, in, opts)
	}
	var pin string
	if p, ok := c.next.(Pinner); ok {
		var err error
		if pin, err = p.Pin(ctx, in, opts); err != nil {
			return nil, err
		}
	}
	key, err := cacheKey(in, opts, pin)
	if err != nil {
		return nil, err
	}
	if res := c.get(key); res != nil {
		return res, nil
	}
	res, err := c.next.Render(ctx, in, opts)
	if err != nil {
		return nil, err
	}
	c.add(key, res.DeepCopy())
	return res, nil
}

// Stats returns the number of cache hits and misses so far.
func (c *Cache) Stats() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

func (c *Cache) get(key string) *Result {
	c.mu.Lock()
	el, ok := c.entries[key]
	if !ok {
		c.misses++
		c.mu.Unlock()
		return nil
	}
	c.hits++
	c.order.MoveToFront(el)
	e := el.Value.(*cacheEntry)
	out := e.next
	e.next = nil
	c.copyAhead(e)
	c.mu.Unlock()
	if out == nil {
		// The cached result is never changed, so it is copied outside the lock.
		out = e.res.DeepCopy()
	}
	return out
}

func (c *Cache) add(key string, res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &cacheEntry{key: key, res: res}
	if el, ok := c.entries[key]; ok {
		c.order.Remove(el)
	}
	c.entries[key] = c.order.PushFront(e)
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*cacheEntry).key)
	}
	c.copyAhead(e)
}

// copyAhead starts making the copy of e's result that its next hit hands out,
// unless one is made or being made, and drops the copy made for another entry,
// so at most one result is held twice. c.mu must be held.
func (c *Cache) copyAhead(e *cacheEntry) {
	if c.ahead != nil && c.ahead != e {
		c.ahead.next = nil
	}
	c.ahead = e
	if e.next != nil || e.copying {
		return
	}
	e.copying = true
	go func() {
		cp := e.res.DeepCopy()
		c.mu.Lock()
		defer c.mu.Unlock()
		e.copying = false
		if c.ahead == e {
			e.next = cp
		}
	}()
}

// cacheKey hashes what determines a render's output besides the renderer itself.
func cacheKey(in Input, opts Options, pin string) (string, error) {
	d, err := in.dir()
	if err != nil {
		return "", err
	}
	o, err := json.Marshal(opts)
	if err != nil {
		return "", fmt.Errorf("render %s: options: %w", d, err)
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(in.Digest), []byte(d), o, []byte(pin)} {
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
