package policy

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Error is a policy file that can't be used: its name, the line at fault
// (0 when the whole file is) and what is wrong.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("policy: %s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("policy: %s line %d: %s", e.File, e.Line, e.Msg)
}

// Policy is a compiled set of identity-based policy documents: what one
// identity may do.
type Policy struct {
	stmts []*statement
}

// statement is one compiled Statement.
type statement struct {
	ref       StatementRef
	deny      bool
	actions   actionSet // NotAction already complemented
	anyRes    bool      // Resource "*" (or NotResource that excludes nothing… never)
	notRes    bool
	resources []resourcePattern
	conds     []condition
}

// StatementRef names a statement, for the decision and for operators.
type StatementRef struct {
	// File is the policy file.
	File string
	// Document is the document's position in the file (0 when the file
	// holds one document), Index the statement's position in it, from 0.
	Document, Index int
	// Sid is the statement's Sid, if it has one.
	Sid string
	// Line is where the statement starts in the file.
	Line int
}

func (r StatementRef) String() string {
	s := fmt.Sprintf("%s line %d, statement %d", r.File, r.Line, r.Index+1)
	if r.Sid != "" {
		s += fmt.Sprintf(" (Sid %q)", r.Sid)
	}
	return s
}

type resourcePattern struct {
	all  bool
	arn  arnPattern
	tmpl *template
}

// ParseFile reads and compiles a policy file.
func ParseFile(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: "can't read it: " + msg}
	}
	return Parse(data, path)
}

// Parse compiles one identity-based policy document, or a JSON list of
// them; name is the file name errors give.
func Parse(data []byte, name string) (*Policy, error) {
	root, err := decodeJSON(data)
	if err != nil {
		var pe *posError
		if errors.As(err, &pe) {
			return nil, &Error{File: name, Line: lineOf(data, pe.off), Msg: pe.msg}
		}
		return nil, &Error{File: name, Msg: err.Error()}
	}
	p := &parser{data: data, name: name}
	pol := &Policy{}
	switch root.kind {
	case kindObject:
		if err := p.document(pol, root, 0); err != nil {
			return nil, err
		}
	case kindArray:
		if len(root.items) == 0 {
			return nil, p.errAt(root, "the list holds no policy document")
		}
		for i, d := range root.items {
			if d.kind != kindObject {
				return nil, p.errAt(d, "each element of the list must be a policy document (an object), not %s", d.kind)
			}
			if err := p.document(pol, d, i); err != nil {
				return nil, err
			}
		}
	default:
		return nil, p.errAt(root, "a policy file holds a policy document (an object) or a list of them, not %s", root.kind)
	}
	return pol, nil
}

type parser struct {
	data []byte
	name string
}

func (p *parser) errAt(n *node, format string, args ...any) *Error {
	return &Error{File: p.name, Line: lineOf(p.data, n.off), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) document(pol *Policy, doc *node, docIndex int) error {
	variables := false
	var stmts *node
	for i, k := range doc.keys {
		v := doc.vals[i]
		switch k.str {
		case "Version":
			if v.kind != kindString {
				return p.errAt(v, "Version must be a string, \"2012-10-17\"")
			}
			switch v.str {
			case "2012-10-17":
				variables = true
			case "2008-10-17":
			default:
				return p.errAt(v, "Version %q is not a policy language version: use \"2012-10-17\"", v.str)
			}
		case "Id":
			if v.kind != kindString {
				return p.errAt(v, "Id must be a string")
			}
		case "Statement":
			stmts = v
		default:
			return p.errAt(k, "unknown policy element %q (a document has Version, Id and Statement)", k.str)
		}
	}
	if stmts == nil {
		return p.errAt(doc, "the policy document has no Statement")
	}
	list := []*node{stmts}
	if stmts.kind == kindArray {
		list = stmts.items
		if len(list) == 0 {
			return p.errAt(stmts, "Statement is an empty list")
		}
	}
	for i, s := range list {
		if s.kind != kindObject {
			return p.errAt(s, "a statement must be an object, not %s", s.kind)
		}
		st, err := p.statement(s, variables)
		if err != nil {
			return err
		}
		st.ref = StatementRef{File: p.name, Document: docIndex, Index: i, Sid: st.ref.Sid, Line: lineOf(p.data, s.off)}
		pol.stmts = append(pol.stmts, st)
	}
	return nil
}

func (p *parser) statement(s *node, variables bool) (*statement, error) {
	st := &statement{}
	var effect, action, notAction, resource, notResource *node
	for i, k := range s.keys {
		v := s.vals[i]
		switch k.str {
		case "Sid":
			if v.kind != kindString {
				return nil, p.errAt(v, "Sid must be a string")
			}
			st.ref.Sid = v.str
		case "Effect":
			effect = v
		case "Action":
			action = v
		case "NotAction":
			notAction = v
		case "Resource":
			resource = v
		case "NotResource":
			notResource = v
		case "Condition":
			if err := p.conditions(st, v, variables); err != nil {
				return nil, err
			}
		case "Principal", "NotPrincipal":
			return nil, p.errAt(k, "%s is not allowed in an identity-based policy: the policy applies to the identity that names it", k.str)
		default:
			return nil, p.errAt(k, "unknown statement element %q", k.str)
		}
	}
	switch {
	case effect == nil:
		return nil, p.errAt(s, "the statement has no Effect")
	case effect.kind != kindString || effect.str != "Allow" && effect.str != "Deny":
		return nil, p.errAt(effect, "Effect must be \"Allow\" or \"Deny\"")
	}
	st.deny = effect.str == "Deny"
	switch {
	case action == nil && notAction == nil:
		return nil, p.errAt(s, "the statement has neither Action nor NotAction")
	case action != nil && notAction != nil:
		return nil, p.errAt(notAction, "a statement has Action or NotAction, not both")
	}
	actNode, neg := action, false
	if actNode == nil {
		actNode, neg = notAction, true
	}
	set, err := p.actions(actNode)
	if err != nil {
		return nil, err
	}
	if neg {
		set = allActions &^ set
	}
	st.actions = set
	switch {
	case resource == nil && notResource == nil:
		return nil, p.errAt(s, "the statement has neither Resource nor NotResource (an identity-based policy needs one; \"*\" for every resource)")
	case resource != nil && notResource != nil:
		return nil, p.errAt(notResource, "a statement has Resource or NotResource, not both")
	}
	resNode := resource
	if resNode == nil {
		resNode, st.notRes = notResource, true
	}
	if err := p.resources(st, resNode, variables); err != nil {
		return nil, err
	}
	return st, nil
}

// stringList reads a string or a list of strings.
func (p *parser) stringList(n *node, what string) ([]*node, error) {
	list := []*node{n}
	if n.kind == kindArray {
		list = n.items
		if len(list) == 0 {
			return nil, p.errAt(n, "%s is an empty list", what)
		}
	}
	for _, e := range list {
		if e.kind != kindString {
			return nil, p.errAt(e, "%s must be a string or a list of strings, not %s", what, e.kind)
		}
	}
	return list, nil
}

func (p *parser) actions(n *node) (actionSet, error) {
	list, err := p.stringList(n, "Action")
	if err != nil {
		return 0, err
	}
	var set actionSet
	for _, e := range list {
		a := e.str
		if a == "*" {
			set |= allActions
			continue
		}
		prefix, pattern, ok := strings.Cut(a, ":")
		if !ok || prefix == "" || pattern == "" || !validPrefix(prefix) || strings.Contains(pattern, ":") {
			return 0, p.errAt(e, "action %q is not of the form service:Action (servicediscovery:RegisterInstance, servicediscovery:Get*)", a)
		}
		cloudMap := strings.EqualFold(prefix, Service)
		if !cloudMap && !strings.EqualFold(prefix, Route53Service) {
			continue // another service's action: never a request cairn serves
		}
		lp := strings.ToLower(pattern)
		matched := actionSet(0)
		for i := range actions {
			if strings.EqualFold(actions[i].Prefix, prefix) && glob(lp, strings.ToLower(actions[i].Name)) {
				matched |= 1 << i
			}
		}
		if matched == 0 && !cloudMap {
			continue // a Route 53 action cairn doesn't serve (a write): it never matches
		}
		if matched == 0 {
			if hasWildcard(pattern) {
				return 0, p.errAt(e, "action %q matches no AWS Cloud Map action", a)
			}
			return 0, p.errAt(e, "unknown action %q: AWS Cloud Map has no such action", a)
		}
		set |= matched
	}
	return set, nil
}

func validPrefix(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (p *parser) resources(st *statement, n *node, variables bool) error {
	list, err := p.stringList(n, "Resource")
	if err != nil {
		return err
	}
	for _, e := range list {
		r := e.str
		if r == "*" {
			st.resources = append(st.resources, resourcePattern{all: true})
			if !st.notRes {
				st.anyRes = true
			}
			continue
		}
		rp := resourcePattern{}
		if variables {
			t, err := parseTemplate(r)
			if err != nil {
				return p.errAt(e, "resource %q: %v", r, err)
			}
			rp.tmpl = t
		}
		a, ok := parseARNPattern(r)
		if !ok {
			return p.errAt(e, "resource %q is not \"*\" or an ARN (arn:aws:servicediscovery:REGION:ACCOUNT:namespace/ID or …:service/ID, with * and ? wildcards)", r)
		}
		if strings.EqualFold(a[2], Service) && !cloudMapResource(a[5]) {
			return p.errAt(e, "resource %q: AWS Cloud Map's resources are namespace/ID and service/ID", r)
		}
		rp.arn = a
		st.resources = append(st.resources, rp)
	}
	return nil
}

func (p *parser) conditions(st *statement, n *node, variables bool) error {
	if n.kind != kindObject {
		return p.errAt(n, "Condition must be an object of operators ({\"StringEquals\": {\"key\": \"value\"}})")
	}
	for i, opNode := range n.keys {
		block := n.vals[i]
		kind, neg, set, ifExists, err := parseOperator(opNode.str)
		if err != nil {
			return p.errAt(opNode, "%v", err)
		}
		if block.kind != kindObject {
			return p.errAt(block, "condition operator %s must hold an object of condition keys", opNode.str)
		}
		for j, keyNode := range block.keys {
			key := keyNode.str
			if pre, name, ok := strings.Cut(key, ":"); !ok || pre == "" || name == "" {
				return p.errAt(keyNode, "condition key %q is not of the form prefix:name (aws:SourceIp, servicediscovery:NamespaceName)", key)
			}
			c := condition{op: opNode.str, kind: kind, neg: neg, set: set, ifExists: ifExists, key: canonKey(key)}
			vals, err := p.condValues(block.vals[j], opNode.str, key)
			if err != nil {
				return err
			}
			if err := c.compileValues(vals, variables); err != nil {
				return p.errAt(block.vals[j], "condition %s on %s: %v", opNode.str, key, err)
			}
			st.conds = append(st.conds, c)
		}
	}
	return nil
}

// condValues reads a condition's value: a string, number or boolean, or a
// list of them.
func (p *parser) condValues(n *node, op, key string) ([]string, error) {
	list := []*node{n}
	if n.kind == kindArray {
		list = n.items
		if len(list) == 0 {
			return nil, p.errAt(n, "condition %s on %s has an empty list of values", op, key)
		}
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		switch e.kind {
		case kindString, kindNumber:
			out = append(out, e.str)
		case kindBool:
			if e.b {
				out = append(out, "true")
			} else {
				out = append(out, "false")
			}
		default:
			return nil, p.errAt(e, "condition %s on %s: a value must be a string, number or boolean, not %s", op, key, e.kind)
		}
	}
	return out, nil
}

// cloudMapResource reports whether an ARN pattern's resource part can
// name a Cloud Map namespace or service.
func cloudMapResource(res string) bool {
	if strings.Contains(res, "${") {
		return true
	}
	kind, _, ok := strings.Cut(res, "/")
	if !ok {
		return glob(res, "namespace/x") || glob(res, "service/x")
	}
	return glob(kind, "namespace") || glob(kind, "service")
}
