package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// node is a JSON value with the byte offset where it starts, so that
// errors can name the line of the element at fault.
type node struct {
	kind  nodeKind
	off   int64
	str   string // string, or a number's text
	b     bool
	keys  []*node // object members' names (kind string), in order
	vals  []*node // object members' values
	items []*node // array elements
}

type nodeKind uint8

const (
	kindNull nodeKind = iota
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

func (k nodeKind) String() string {
	return [...]string{"null", "a string", "a number", "true or false", "an object", "a list"}[k]
}

// maxDepth bounds nesting: a policy is at most five levels deep, and a
// hostile file must not exhaust the stack.
const maxDepth = 32

// decodeJSON reads exactly one JSON value from data.
func decodeJSON(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readNode(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &posError{off: dec.InputOffset(), msg: "unexpected content after the policy document"}
	}
	return n, nil
}

// posError is a parse error at a byte offset of the file.
type posError struct {
	off int64
	msg string
}

func (e *posError) Error() string { return e.msg }

func readNode(dec *json.Decoder, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, &posError{off: dec.InputOffset(), msg: "the document is nested too deeply"}
	}
	off := skipSpace(dec)
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(dec, err)
	}
	n := &node{off: off}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.kind = kindObject
			for dec.More() {
				koff := skipSpace(dec)
				kt, err := dec.Token()
				if err != nil {
					return nil, jsonError(dec, err)
				}
				k, _ := kt.(string)
				for _, prev := range n.keys {
					if prev.str == k {
						return nil, &posError{off: koff, msg: fmt.Sprintf("%q appears twice in one object", k)}
					}
				}
				v, err := readNode(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, &node{kind: kindString, off: koff, str: k})
				n.vals = append(n.vals, v)
			}
		case '[':
			n.kind = kindArray
			for dec.More() {
				v, err := readNode(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, jsonError(dec, err)
		}
	case string:
		n.kind, n.str = kindString, t
	case json.Number:
		n.kind, n.str = kindNumber, t.String()
	case bool:
		n.kind, n.b = kindBool, t
	case nil:
		n.kind = kindNull
	}
	return n, nil
}

// skipSpace returns the offset where the decoder's next token starts.
func skipSpace(dec *json.Decoder) int64 {
	off := dec.InputOffset()
	r := dec.Buffered()
	var b [1]byte
	for {
		if n, _ := r.Read(b[:]); n == 0 {
			return off
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
}

func jsonError(dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return &posError{off: syn.Offset, msg: "not valid JSON: " + syn.Error()}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &posError{off: dec.InputOffset(), msg: "not valid JSON: the document ends too early"}
	}
	return &posError{off: dec.InputOffset(), msg: "not valid JSON: " + err.Error()}
}

// member returns an object's member by exact name.
func (n *node) member(name string) (*node, *node) {
	for i, k := range n.keys {
		if k.str == name {
			return k, n.vals[i]
		}
	}
	return nil, nil
}

// lineOf returns the 1-based line of a byte offset.
func lineOf(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}
