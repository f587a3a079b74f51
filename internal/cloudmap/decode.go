package cloudmap

import "unicode/utf8"

// DecodeFast decodes the request bodies SDKs send for DiscoverInstances
// without reflection, the read path's most frequent request. It accepts
// only a plain subset of JSON: one object whose members are named exactly
// as the shape's (each at most once), strings without escapes, a
// MaxResults of decimal digits that fits an int32, no nulls. For anything
// else it reports false and leaves r unchanged, and the caller decodes
// with encoding/json, which decides errors and every other case. Where
// it reports true, r is what encoding/json would have decoded into a zero
// request (FuzzDecodeFast checks it).
func (r *DiscoverInstancesRequest) DecodeFast(b []byte) bool {
	var out DiscoverInstancesRequest
	d := fastDecoder{b: string(b)} // one copy of the body: each string is a part of it
	ok := d.object(func(name string) (bit uint8, ok bool) {
		switch name {
		case "NamespaceName":
			out.NamespaceName, ok = d.str()
			return 1, ok
		case "ServiceName":
			out.ServiceName, ok = d.str()
			return 2, ok
		case "HealthStatus":
			out.HealthStatus, ok = d.str()
			return 4, ok
		case "OwnerAccount":
			out.OwnerAccount, ok = d.str()
			return 8, ok
		case "MaxResults":
			var n int32
			n, ok = d.int32()
			out.MaxResults = &n
			return 16, ok
		case "QueryParameters":
			out.QueryParameters, ok = d.strMap()
			return 32, ok
		case "OptionalParameters":
			out.OptionalParameters, ok = d.strMap()
			return 64, ok
		}
		return 0, false
	})
	if ok {
		*r = out
	}
	return ok
}

// DecodeFast decodes a RegisterInstance body without reflection, as
// DiscoverInstancesRequest.DecodeFast does (the same subset of JSON, the
// same answer: false leaves r unchanged for encoding/json to decode).
func (r *RegisterInstanceRequest) DecodeFast(b []byte) bool {
	var out RegisterInstanceRequest
	d := fastDecoder{b: string(b)} // one copy of the body: each string is a part of it
	ok := d.object(func(name string) (bit uint8, ok bool) {
		switch name {
		case "ServiceId":
			out.ServiceId, ok = d.str()
			return 1, ok
		case "InstanceId":
			out.InstanceId, ok = d.str()
			return 2, ok
		case "CreatorRequestId":
			out.CreatorRequestId, ok = d.str()
			return 4, ok
		case "Attributes":
			out.Attributes, ok = d.strMap()
			return 8, ok
		}
		return 0, false
	})
	if ok {
		*r = out
	}
	return ok
}

// DecodeFast decodes a DeregisterInstance body without reflection, as
// DiscoverInstancesRequest.DecodeFast does.
func (r *DeregisterInstanceRequest) DecodeFast(b []byte) bool {
	var out DeregisterInstanceRequest
	d := fastDecoder{b: string(b)} // one copy of the body: each string is a part of it
	ok := d.object(func(name string) (bit uint8, ok bool) {
		switch name {
		case "ServiceId":
			out.ServiceId, ok = d.str()
			return 1, ok
		case "InstanceId":
			out.InstanceId, ok = d.str()
			return 2, ok
		}
		return 0, false
	})
	if ok {
		*r = out
	}
	return ok
}

// object reads the whole of d as one JSON object of the subset
// DecodeFast accepts, calling member for each member's name with d at its
// value: member reads the value and returns the member's bit (each
// member has its own, and may come at most once) and whether it read it;
// bit 0 is a member the shape does not have.
func (d *fastDecoder) object(member func(name string) (bit uint8, ok bool)) bool {
	d.space()
	if !d.byte('{') {
		return false
	}
	var seen uint8
	d.space()
	if !d.byte('}') {
		for {
			d.space()
			name, ok := d.str()
			if !ok {
				return false
			}
			d.space()
			if !d.byte(':') {
				return false
			}
			d.space()
			bit, ok := member(name)
			if !ok || bit == 0 || seen&bit != 0 {
				return false
			}
			seen |= bit
			d.space()
			if d.byte('}') {
				break
			}
			if !d.byte(',') {
				return false
			}
		}
	}
	d.space()
	return d.i == len(d.b)
}

// fastDecoder reads the plain JSON DecodeFast accepts.
type fastDecoder struct {
	b string
	i int
}

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// byte consumes c if it comes next.
func (d *fastDecoder) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters, in valid
// UTF-8 (encoding/json would replace invalid bytes).
func (d *fastDecoder) str() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	start, ascii := d.i, true
	for ; d.i < len(d.b); d.i++ {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(s) {
				return "", false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// int32 reads a non-negative decimal integer without a fraction or an
// exponent that fits an int32.
func (d *fastDecoder) int32() (int32, bool) {
	start := d.i
	var n int64
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		n = n*10 + int64(d.b[d.i]-'0')
		if n > 1<<31-1 {
			return 0, false
		}
		d.i++
	}
	digits := d.i - start
	if digits == 0 || digits > 1 && d.b[start] == '0' {
		return 0, false
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return int32(n), true
}

// strMap reads an object of strings.
func (d *fastDecoder) strMap() (map[string]string, bool) {
	if !d.byte('{') {
		return nil, false
	}
	m := make(map[string]string)
	d.space()
	if d.byte('}') {
		return m, true
	}
	for {
		d.space()
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.space()
		if !d.byte(':') {
			return nil, false
		}
		d.space()
		v, ok := d.str()
		if !ok {
			return nil, false
		}
		m[k] = v
		d.space()
		if d.byte('}') {
			return m, true
		}
		if !d.byte(',') {
			return nil, false
		}
	}
}

// AppendJSON appends the answer's JSON encoding to b, encoding/json's
// but for <, > and &, which it escapes and this does not (an operation
// ID has none).
func (r *RegisterInstanceResponse) AppendJSON(b []byte) []byte {
	return appendOperationID(b, r.OperationId)
}

// AppendJSON appends the answer's JSON encoding to b, as
// RegisterInstanceResponse.AppendJSON does.
func (r *DeregisterInstanceResponse) AppendJSON(b []byte) []byte {
	return appendOperationID(b, r.OperationId)
}

// appendOperationID appends the object {"OperationId":id}, or {} for ""
// (the member is omitted when empty).
func appendOperationID(b []byte, id string) []byte {
	if id == "" {
		return append(b, "{}"...)
	}
	b = append(b, `{"OperationId":`...)
	b = AppendJSONString(b, id)
	return append(b, '}')
}
