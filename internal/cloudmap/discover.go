package cloudmap

import (
	"strconv"
	"sync"
	"unicode/utf8"
)

// Attribute is one instance attribute.
type Attribute struct{ Key, Value string }

// DiscoveredInstance is one instance in a DiscoverInstances answer: the
// model's HttpInstanceSummary, with its attributes as a list.
type DiscoveredInstance struct {
	InstanceId    string
	NamespaceName string
	ServiceName   string
	HealthStatus  string
	Attributes    []Attribute
	// AttributesJSON, when set, is Attributes as the answer carries them
	// (see EncodeAttributes): a registry keeps it with each instance, so
	// that an answer copies it instead of encoding every key and value.
	AttributesJSON string
}

// DiscoverInstancesResult is the DiscoverInstances answer. It encodes to
// exactly the JSON of DiscoverInstancesResponse, without the maps and
// reflection of encoding/json, because DiscoverInstances is the hottest
// call a registry serves.
type DiscoverInstancesResult struct {
	Instances         []DiscoveredInstance
	InstancesRevision int64
}

// results holds released results for NewDiscoverInstancesResult.
var results = sync.Pool{New: func() any { return new(DiscoverInstancesResult) }}

// maxPooledInstances is the most instances a released result may hold to
// be kept for reuse (DiscoverInstances' MaxResults is at most 1,000).
const maxPooledInstances = 128

// NewDiscoverInstancesResult returns a result of n zero instances, reusing
// one that Release gave back when it can: an answer then costs no
// allocation for its instances.
func NewDiscoverInstancesResult(n int) *DiscoverInstancesResult {
	r := results.Get().(*DiscoverInstancesResult)
	if cap(r.Instances) < n {
		r.Instances = make([]DiscoveredInstance, n)
	}
	r.Instances = r.Instances[:n]
	return r
}

// Release gives r back for NewDiscoverInstancesResult to reuse, once its
// answer is encoded: r must not be used after. A result that is not
// released is simply collected.
func (r *DiscoverInstancesResult) Release() {
	if cap(r.Instances) > maxPooledInstances {
		return
	}
	clear(r.Instances) // keeps no instance's data alive while pooled
	*r = DiscoverInstancesResult{Instances: r.Instances[:0]}
	results.Put(r)
}

// AppendJSON appends the result's JSON encoding to b.
func (r *DiscoverInstancesResult) AppendJSON(b []byte) []byte {
	b = append(b, `{"Instances":[`...)
	for i, inst := range r.Instances {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"InstanceId":`...)
		b = AppendJSONString(b, inst.InstanceId)
		b = append(b, `,"NamespaceName":`...)
		b = AppendJSONString(b, inst.NamespaceName)
		b = append(b, `,"ServiceName":`...)
		b = AppendJSONString(b, inst.ServiceName)
		b = append(b, `,"HealthStatus":`...)
		b = AppendJSONString(b, inst.HealthStatus)
		b = append(b, `,"Attributes":`...)
		if inst.AttributesJSON != "" {
			b = append(b, inst.AttributesJSON...)
		} else {
			b = appendAttributes(b, inst.Attributes)
		}
		b = append(b, '}')
	}
	b = append(b, `],"InstancesRevision":`...)
	b = strconv.AppendInt(b, r.InstancesRevision, 10)
	return append(b, '}')
}

// appendAttributes appends attrs as a JSON object.
func appendAttributes(b []byte, attrs []Attribute) []byte {
	b = append(b, '{')
	for j, a := range attrs {
		if j > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, a.Key)
		b = append(b, ':')
		b = AppendJSONString(b, a.Value)
	}
	return append(b, '}')
}

// EncodeAttributes returns attrs as a DiscoverInstances answer carries
// them, a JSON object (for DiscoveredInstance.AttributesJSON), and
// replaces in attrs every key and value that the object carries unescaped
// by the same text within the object: who keeps both keeps that text
// once. attrs' keys and values keep their contents.
func EncodeAttributes(attrs []Attribute) string {
	// Encoded on the stack when it fits: only the string is allocated
	// (a start encodes every instance's attributes; growing a buffer
	// from nil was 6% of a start's CPU).
	var buf [512]byte
	b := appendAttributes(buf[:0], attrs)
	js := string(b)
	at := 1 // after the object's '{'
	share := func(s string) string {
		n := len(AppendJSONString(b[:0], s)) // b is free now: js is a copy
		text := js[at+1 : at+n-1]
		at += n
		if text == s { // carried unescaped
			return text
		}
		return s
	}
	for i := range attrs {
		attrs[i].Key = share(attrs[i].Key)
		at++ // ':'
		attrs[i].Value = share(attrs[i].Value)
		at++ // ',' or '}'
	}
	return js
}

const hexDigits = "0123456789abcdef"

// jsonPlain marks the bytes a JSON string carries as they are: ASCII from
// the space on, but the quote and the backslash.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Runs of bytes sent as they are, most of every answer, in one
		// table lookup a byte.
		for i < len(s) && jsonPlain[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendJSON appends the ListOperations answer's JSON encoding to b: the
// bytes encoding/json writes for it but for '<', '>' and '&' in a string,
// sent as they are (JSON allows both). A page of 100 operations costs no
// reflection and no allocation beyond b's growth: paging clients in a
// loop cost the server what they read.
func (r *ListOperationsResponse) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	if r.NextToken != "" {
		b = append(b, `"NextToken":`...)
		b = AppendJSONString(b, r.NextToken)
		b = append(b, ',')
	}
	b = append(b, `"Operations":`...)
	if r.Operations == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i, o := range r.Operations {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if o.Id != "" {
			b = append(b, `"Id":`...)
			b = AppendJSONString(b, o.Id)
		}
		if o.Status != "" {
			if o.Id != "" {
				b = append(b, ',')
			}
			b = append(b, `"Status":`...)
			b = AppendJSONString(b, o.Status)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
