package chartcheck

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gitopskit/gitopskit/render"
)

// Chart is what Schema needs of a chart: its name, the content of its
// values.schema.json (nil without one) and its subcharts.
type Chart struct {
	Name         string
	Schema       []byte
	Dependencies []Chart
}

// Schema validates values, coalesced as Helm coalesces them, against the
// values schemas of c and its subcharts as Helm does (a subchart's against the
// values under its name), with the same errors, except that a schema's
// references resolve only inside it: one to another document (file://,
// http(s)://, a relative path) fails with an error wrapping
// ErrSchemaReference, and a urn: one accepts anything, as Helm does when it
// cannot resolve it.
func Schema(c Chart, values map[string]any) error {
	var e schemaError
	e.add(c, values)
	if e.msg.Len() == 0 {
		return nil
	}
	return fmt.Errorf("values don't meet the specifications of the schema(s) in the following chart(s):\n%w", &e)
}

// schemaError is the errors of the schemas of a chart and its subcharts, one
// after the other, as Helm writes them.
type schemaError struct {
	msg     strings.Builder
	refused []error // render.ErrRemote, render.ErrOutsideRoot: what a schema referred to
}

func (e *schemaError) Error() string { return e.msg.String() }

func (e *schemaError) Is(target error) bool { return slices.Contains(e.refused, target) }

const schemaURL = "file:///values.schema.json"

func (e *schemaError) add(c Chart, values map[string]any) {
	if c.Schema != nil {
		var l confined
		if err := validate(c.Schema, values, &l); err != nil {
			fmt.Fprintf(&e.msg, "%s:\n%s\n", c.Name, err)
			e.refused = append(e.refused, l.refused...)
		}
	}
	for _, sub := range c.Dependencies {
		raw, ok := values[sub.Name]
		if !ok || raw == nil {
			continue
		}
		vals, ok := raw.(map[string]any)
		if !ok {
			fmt.Fprintf(&e.msg, "%s:\ninvalid type for values: expected object (map), got %T\n", sub.Name, raw)
			continue
		}
		e.add(sub, vals)
	}
}

func validate(schema []byte, values map[string]any, l *confined) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return err
	}
	compiler := jsonschema.NewCompiler()
	compiler.UseLoader(l)
	if err := compiler.AddResource(schemaURL, doc); err != nil {
		return err
	}
	s, err := compiler.Compile(schemaURL)
	if err != nil {
		return err
	}
	if err := s.Validate(values); err != nil {
		// The library's first line names the schema's URL, which says nothing.
		return errors.New(strings.TrimPrefix(err.Error(), "jsonschema validation failed with '"+schemaURL+"#'\n"))
	}
	return nil
}

// confined loads no document: a urn: reference is the schema `true`, as
// Helm's default; any other fails, and what it is is recorded.
type confined struct {
	refused []error
}

func (l *confined) Load(url string) (any, error) {
	if strings.HasPrefix(url, "urn:") {
		return true, nil
	}
	sentinel := render.ErrOutsideRoot
	if strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://") {
		sentinel = render.ErrRemote
	}
	l.refused = append(l.refused, sentinel)
	return nil, fmt.Errorf("%w: values schema refers to %s", sentinel, url)
}

// Of returns the Chart of a Helm chart c (Helm 3's or Helm 4's), its schema
// read by schema.
func Of[C interface {
	Name() string
	Dependencies() []C
}](c C, schema func(C) []byte) Chart {
	out := Chart{Name: c.Name(), Schema: schema(c)}
	for _, sub := range c.Dependencies() {
		out.Dependencies = append(out.Dependencies, Of(sub, schema))
	}
	return out
}
