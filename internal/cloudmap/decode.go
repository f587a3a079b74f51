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
	// One copy of the body, which every decoded string is a part of: one
	// allocation rather than one a string.
	d := fastDecoder{b: string(b)}
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
			var bit uint8
			switch name {
			case "NamespaceName":
				bit = 1
				out.NamespaceName, ok = d.str()
			case "ServiceName":
				bit = 2
				out.ServiceName, ok = d.str()
			case "HealthStatus":
				bit = 4
				out.HealthStatus, ok = d.str()
			case "OwnerAccount":
				bit = 8
				out.OwnerAccount, ok = d.str()
			case "MaxResults":
				bit = 16
				var n int32
				n, ok = d.int32()
				out.MaxResults = &n
			case "QueryParameters":
				bit = 32
				out.QueryParameters, ok = d.strMap()
			case "OptionalParameters":
				bit = 64
				out.OptionalParameters, ok = d.strMap()
			}
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
	if d.i != len(d.b) {
		return false
	}
	*r = out
	return true
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
