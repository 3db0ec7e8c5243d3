package diff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/openapi"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/gitopskit/gitopskit/diff/internal/builtin"
)

// ErrNoSchema is returned (wrapped) by a [SchemaSource] that has no schema for a kind.
var ErrNoSchema = errors.New("no OpenAPI schema")

// SchemaSource gives the structured-merge-diff type converter for a kind. The
// converter must know gvk; when the source has no schema for it, it returns an error
// wrapping [ErrNoSchema]. Implementations must be safe for concurrent use.
type SchemaSource interface {
	TypeConverter(ctx context.Context, gvk schema.GroupVersionKind) (managedfields.TypeConverter, error)
}

// ClusterSchemas is a [SchemaSource] that reads the cluster's OpenAPI v3 documents
// (/openapi/v3), one per group-version, and caches the converter built from each.
// A document is fetched again when its hash in the discovery index changes, and the
// index is read again when a kind is missing, so CRDs created after the first use are
// found once the API server publishes their schemas. It is safe for concurrent use.
type ClusterSchemas struct {
	client openapi.Client

	mu    sync.Mutex
	paths map[string]openapi.GroupVersion
	byURL map[string]*gvSchema // keyed by the server-relative URL, which carries the hash
	known map[schema.GroupVersionKind]*gvSchema
}

type gvSchema struct {
	once   sync.Once
	tc     managedfields.TypeConverter
	scopes map[schema.GroupVersionKind]string
	err    error
}

// NewClusterSchemas returns a source reading from client, typically
// discovery.NewDiscoveryClientForConfig(cfg).OpenAPIV3().
func NewClusterSchemas(client openapi.Client) *ClusterSchemas {
	return &ClusterSchemas{client: client, byURL: map[string]*gvSchema{}, known: map[schema.GroupVersionKind]*gvSchema{}}
}

// TypeConverter returns the converter for gvk's group-version document.
func (c *ClusterSchemas) TypeConverter(ctx context.Context, gvk schema.GroupVersionKind) (managedfields.TypeConverter, error) {
	c.mu.Lock()
	gs, ok := c.known[gvk]
	c.mu.Unlock()
	if ok {
		return gs.tc, nil
	}
	key := "apis/" + gvk.Group + "/" + gvk.Version
	if gvk.Group == "" {
		key = "api/" + gvk.Version
	}
	for attempt := 0; attempt < 2; attempt++ {
		gs, err := c.entry(key, attempt > 0)
		if err != nil {
			return nil, err
		}
		if gs != nil {
			gs.once.Do(func() { gs.tc, gs.scopes, gs.err = c.load(key) })
			if gs.err != nil {
				return nil, gs.err
			}
			if knows(gs.tc, gvk) {
				c.mu.Lock()
				c.known[gvk] = gs
				c.mu.Unlock()
				return gs.tc, nil
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: %w in the cluster's /openapi/v3", gvk, ErrNoSchema)
}

// entry returns the cache entry for a group-version path, reading the index first
// when it was never read or refresh is set. It returns nil when the path is unknown.
func (c *ClusterSchemas) entry(key string, refresh bool) (*gvSchema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paths == nil || refresh {
		paths, err := c.client.Paths()
		if err != nil {
			return nil, fmt.Errorf("read /openapi/v3 index: %w", err)
		}
		c.paths = paths
		// A new index may carry new hashes: look kinds up again.
		c.known = map[schema.GroupVersionKind]*gvSchema{}
	}
	gv, ok := c.paths[key]
	if !ok {
		return nil, nil
	}
	url := key
	if u, ok := gv.(interface{ ServerRelativeURL() string }); ok {
		url = u.ServerRelativeURL()
	}
	gs := c.byURL[url]
	if gs == nil {
		gs = &gvSchema{}
		c.byURL[url] = gs
	}
	return gs, nil
}

func (c *ClusterSchemas) load(key string) (managedfields.TypeConverter, map[schema.GroupVersionKind]string, error) {
	c.mu.Lock()
	gv := c.paths[key]
	c.mu.Unlock()
	b, err := gv.Schema("application/json")
	if err != nil {
		return nil, nil, fmt.Errorf("read /openapi/v3/%s: %w", key, err)
	}
	tc, scopes, err := typeConverterFromV3(b)
	if err != nil {
		return nil, nil, fmt.Errorf("/openapi/v3/%s: %w", key, err)
	}
	return tc, scopes, nil
}

// scope returns gvk's scope from the document of its group-version, when it was
// read: builtin.Namespaced, builtin.Cluster or "".
func (c *ClusterSchemas) scope(gvk schema.GroupVersionKind) string {
	c.mu.Lock()
	gs, ok := c.known[gvk]
	c.mu.Unlock()
	if !ok {
		return ""
	}
	return gs.scopes[gvk]
}

func typeConverterFromV3(doc []byte) (managedfields.TypeConverter, map[schema.GroupVersionKind]string, error) {
	var o spec3.OpenAPI
	if err := json.Unmarshal(doc, &o); err != nil {
		return nil, nil, fmt.Errorf("parse OpenAPI v3 document: %w", err)
	}
	if o.Components == nil {
		return nil, nil, fmt.Errorf("OpenAPI v3 document has no components")
	}
	tc, err := managedfields.NewTypeConverter(o.Components.Schemas, false)
	return tc, builtin.Scopes(&o), err
}

// StaticSchemas is a [SchemaSource] over schemas the caller supplies, for diffs
// without a cluster. It is safe for concurrent use.
type StaticSchemas struct {
	tc     managedfields.TypeConverter
	scopes map[schema.GroupVersionKind]string
}

// NewStaticSchemas builds a source from OpenAPI v3 documents (the bodies of
// /openapi/v3/apis/<group>/<version>), for example files saved from a cluster.
func NewStaticSchemas(docs ...[]byte) (*StaticSchemas, error) {
	all := map[string]*spec.Schema{}
	scopes := map[schema.GroupVersionKind]string{}
	for i, doc := range docs {
		var o spec3.OpenAPI
		if err := json.Unmarshal(doc, &o); err != nil {
			return nil, fmt.Errorf("OpenAPI v3 document %d: %w", i, err)
		}
		if o.Components != nil {
			for k, v := range o.Components.Schemas {
				all[k] = v
			}
		}
		for k, v := range builtin.Scopes(&o) {
			scopes[k] = v
		}
	}
	tc, err := managedfields.NewTypeConverter(all, false)
	if err != nil {
		return nil, fmt.Errorf("build type converter: %w", err)
	}
	return &StaticSchemas{tc: tc, scopes: scopes}, nil
}

func (s *StaticSchemas) scope(gvk schema.GroupVersionKind) string { return s.scopes[gvk] }

// TypeConverter returns the converter when it knows gvk.
func (s *StaticSchemas) TypeConverter(_ context.Context, gvk schema.GroupVersionKind) (managedfields.TypeConverter, error) {
	if !knows(s.tc, gvk) {
		return nil, fmt.Errorf("%s: %w among the supplied documents", gvk, ErrNoSchema)
	}
	return s.tc, nil
}

// knows reports whether tc has a type for gvk. The converter has no lookup method,
// so this converts an empty object of that kind and looks for the "no type" error.
func knows(tc managedfields.TypeConverter, gvk schema.GroupVersionKind) bool {
	u := emptyObject(gvk)
	_, err := tc.ObjectToTyped(u)
	return err == nil || !isNoType(err)
}
