package registry

import (
	"unicode/utf8"
)

// decodeInstance decodes an instance record. Instance records are nearly
// all of a large store, and a start decodes every one of them, so the
// records encode writes (compact JSON, exact field names, strings without
// escapes) are parsed by hand, several times faster than encoding/json;
// anything else (an escape, white space, a null, an unknown field) goes
// through encoding/json, so the result is always what decode[instRecord]
// gives.
func decodeInstance(b []byte) (*instRecord, error) {
	if rec, ok := parseInstance(b); ok {
		return rec, nil
	}
	return decode[instRecord](b)
}

// parseInstance is decodeInstance's fast path; ok false means "use
// encoding/json", never an error.
func parseInstance(b []byte) (*instRecord, bool) {
	p := jsonParser{b: b}
	rec := &instRecord{}
	ok := p.object(func(key string) (ok bool) {
		switch key {
		case "svc":
			rec.ServiceID, ok = p.str()
		case "id":
			rec.ID, ok = p.str()
		case "crid":
			rec.CreatorRequestID, ok = p.str()
		case "by":
			rec.CreatedBy, ok = p.str()
		case "custom":
			rec.Custom, ok = p.str()
		case "customPending":
			rec.CustomPending, ok = p.str()
		case "probe":
			rec.Probe, ok = p.str()
		case "customAt":
			rec.CustomAt, ok = p.int()
		case "forced":
			rec.Forced, ok = p.str()
		case "forcedUntil":
			rec.ForcedUntil, ok = p.int()
		case "probeGen":
			rec.ProbeGen, ok = p.int()
		case "attrs":
			rec.Attributes, ok = p.strMap(rec.Attributes)
		}
		return ok
	})
	return rec, ok && p.i == len(b)
}

// jsonParser reads compact JSON; every method reports false on anything
// it does not handle.
type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) peek(c byte) bool { return p.i < len(p.b) && p.b[p.i] == c }

func (p *jsonParser) byte(c byte) bool {
	if p.peek(c) {
		p.i++
		return true
	}
	return false
}

// object reads an object: for each key, field reads its value and
// reports whether it could (false for a key it does not know).
func (p *jsonParser) object(field func(key string) bool) bool {
	if !p.byte('{') {
		return false
	}
	if p.byte('}') {
		return true
	}
	for {
		key, ok := p.str()
		if !ok || !p.byte(':') || !field(key) {
			return false
		}
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
	}
}

// str reads a string without escapes or control characters, in valid
// UTF-8.
func (p *jsonParser) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	ascii := true
	for ; p.i < len(p.b); p.i++ {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// int reads an integer of at most 18 digits.
func (p *jsonParser) int() (int64, bool) {
	neg := p.byte('-')
	start := p.i
	var n int64
	for ; p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9'; p.i++ {
		n = n*10 + int64(p.b[p.i]-'0')
	}
	digits := p.i - start
	if digits == 0 || digits > 18 || digits > 1 && p.b[start] == '0' {
		return 0, false
	}
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// strMap reads an object of strings into m (a new map if m is nil), as
// encoding/json does.
func (p *jsonParser) strMap(m map[string]string) (map[string]string, bool) {
	if !p.byte('{') {
		return nil, false
	}
	if m == nil {
		m = make(map[string]string, 8)
	}
	if p.byte('}') {
		return m, true
	}
	for {
		k, ok := p.str()
		if !ok || !p.byte(':') {
			return nil, false
		}
		v, ok := p.str()
		if !ok {
			return nil, false
		}
		m[k] = v
		if p.byte('}') {
			return m, true
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}
