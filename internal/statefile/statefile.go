// Package statefile reads the state files of `cairn serve --init` and
// `cairn import`: an account's namespaces, services and instances (the
// format `cairn export` writes), in JSON or YAML, which it tells apart by
// nothing: JSON is YAML. Every error names the file, the line and column,
// and what is wrong.
//
//	Namespaces:
//	  - Name: shop
//	    Type: HTTP
//	    Services:
//	      - Name: cart
//	        Instances:
//	          - Id: cart-1
//	            Attributes: {AWS_INSTANCE_IPV4: 10.0.0.1, AWS_INSTANCE_PORT: 8080}
package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cairn-dev/cairn/internal/registry"
)

// Read reads and parses the state file at path.
func Read(path string) (*registry.State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a state file's content; name is the file's name in errors.
func Parse(name string, data []byte) (*registry.State, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	p := &parser{name: name}
	st := &registry.State{}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: the file is empty; it needs a Namespaces list", name)
	}
	doc := root.Content[0]
	if err := p.object(doc, st, "Namespaces"); err != nil {
		return nil, err
	}
	for _, nsNode := range p.list(doc, "Namespaces") {
		var ns registry.NamespaceState
		if err := p.object(nsNode, &ns, "Services"); err != nil {
			return nil, err
		}
		ns.Pos = p.pos(nsNode)
		for _, svcNode := range p.list(nsNode, "Services") {
			var svc registry.ServiceState
			if err := p.object(svcNode, &svc, "Instances"); err != nil {
				return nil, err
			}
			svc.Pos = p.pos(svcNode)
			for _, instNode := range p.list(svcNode, "Instances") {
				var inst registry.InstanceState
				if err := p.object(instNode, &inst, ""); err != nil {
					return nil, err
				}
				inst.Pos = p.pos(instNode)
				svc.Instances = append(svc.Instances, inst)
			}
			ns.Services = append(ns.Services, svc)
		}
		st.Namespaces = append(st.Namespaces, ns)
	}
	if err := p.err; err != nil {
		return nil, err
	}
	return st, nil
}

type parser struct {
	name string
	err  error // the first error of list
}

func (p *parser) pos(n *yaml.Node) string { return fmt.Sprintf("%s:%d:%d", p.name, n.Line, n.Column) }

func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s: %s", p.pos(n), fmt.Sprintf(format, args...))
}

// object decodes mapping node n into out (a pointer to a struct with JSON
// tags), leaving out the member child, which the caller walks. Unknown
// members and wrongly typed values are errors at their position.
func (p *parser) object(n *yaml.Node, out any, child string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "expected an object with the members %s, not %s", strings.Join(members(out), ", "), describe(n))
	}
	allowed := members(out)
	m := map[string]any{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return p.errorf(k, "unknown member %q; the members here are %s (names are case-sensitive)", k.Value, strings.Join(allowed, ", "))
		}
		if k.Value == child {
			if v.Kind != yaml.SequenceNode && !(v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
				return p.errorf(v, "%s must be a list, not %s", child, describe(v))
			}
			continue
		}
		val, err := p.value(v, k.Value == "Attributes")
		if err != nil {
			return err
		}
		m[k.Value] = val
	}
	b, err := json.Marshal(m)
	if err != nil {
		return p.errorf(n, "%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			at := n
			if top, _, _ := strings.Cut(te.Field, "."); top != "" {
				if v := member(n, top); v != nil {
					at = v
				}
			}
			return p.errorf(at, "%s must be %s, not a %s", te.Field, goType(te.Type), te.Value)
		}
		return p.errorf(n, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// list returns the items of n's member name (nil when absent).
func (p *parser) list(n *yaml.Node, name string) []*yaml.Node {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	v := member(n, name)
	if v == nil || v.Kind != yaml.SequenceNode {
		return nil
	}
	return v.Content
}

func member(n *yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			return n.Content[i+1]
		}
	}
	return nil
}

// value converts a node to what encoding/json makes of the same JSON;
// with strs, scalars stay strings (attribute values such as a port
// written as a YAML number).
func (p *parser) value(n *yaml.Node, strs bool) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return p.value(n.Alias, strs)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := p.value(n.Content[i+1], strs)
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := p.value(c, strs)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	}
	if strs || n.Tag == "!!str" {
		return n.Value, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, p.errorf(n, "%v", err)
	}
	return v, nil
}

// members lists the JSON member names of the struct out points to.
func members(out any) []string {
	t := reflect.TypeOf(out).Elem()
	var names []string
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	return names
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "an object"
	}
	return fmt.Sprintf("the value %q", n.Value)
}

func goType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Map:
		return "an object"
	case reflect.Slice:
		return "a list"
	case reflect.Pointer:
		return goType(t.Elem())
	}
	return "an object"
}
