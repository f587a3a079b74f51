package registry

import (
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// decodeInstView decodes an instance record into what the view keeps of
// it, and the record's ProbeGen: newInstView of decodeInstance's record.
// The records encode writes are parsed straight into the instView, with
// no record, no map of attributes and no string per attribute in
// between (the attributes' text is allocated once, as their JSON
// object); anything else goes through decodeInstance.
func decodeInstView(b []byte) (*instView, int64, error) {
	if iv, probeGen, ok := parseInstView(b); ok {
		return iv, probeGen, nil
	}
	rec, err := decodeInstance(b)
	if err != nil {
		return nil, 0, err
	}
	return newInstView(rec), rec.ProbeGen, nil
}

// parseInstView is decodeInstView's fast path; ok false means "use
// decodeInstance", never an error. It reads what parseInstance reads.
func parseInstView(b []byte) (iv *instView, probeGen int64, ok bool) {
	p := jsonParser{b: b}
	iv = &instView{}
	var scratch [16]cloudmap.Attribute
	attrs := scratch[:0]
	if !p.byte('{') {
		return nil, 0, false
	}
	for first := true; !p.byte('}'); first = false {
		if !first && !p.byte(',') {
			return nil, 0, false
		}
		key, _, ok := p.raw()
		if !ok || !p.byte(':') {
			return nil, 0, false
		}
		switch string(key) { // compared without a copy
		case "svc":
			_, _, ok = p.raw() // the key names the service
		case "id":
			iv.id, ok = p.str()
		case "crid":
			iv.crid, ok = p.str()
		case "by":
			iv.createdBy, ok = p.str()
		case "custom":
			iv.custom, ok = p.status()
		case "customPending":
			iv.pending, ok = p.status()
		case "probe":
			iv.probe, ok = p.status()
		case "customAt":
			iv.pendingAt, ok = p.int()
		case "forced":
			iv.forced, ok = p.status()
		case "forcedUntil":
			iv.forcedUntil, ok = p.int()
		case "probeGen":
			probeGen, ok = p.int()
		case "attrs":
			attrs, ok = p.attrs(attrs)
		default:
			ok = false
		}
		if !ok {
			return nil, 0, false
		}
	}
	if p.i != len(b) {
		return nil, 0, false
	}
	// As a map of them would: sorted by key, the last of equal keys kept.
	slices.SortStableFunc(attrs, func(a, b cloudmap.Attribute) int { return strings.Compare(a.Key, b.Key) })
	n := 0
	for i, a := range attrs {
		if i+1 < len(attrs) && attrs[i+1].Key == a.Key {
			continue
		}
		attrs[n] = a
		n++
	}
	iv.attrs = make([]cloudmap.Attribute, n)
	copy(iv.attrs, attrs[:n])
	clear(attrs) // they point into b
	iv.attrsJSON = cloudmap.EncodeAttributes(iv.attrs)
	// Every key and value points into b, which the caller reuses, unless
	// EncodeAttributes pointed it into the encoding; those it carried
	// escaped (none that p.attrs takes, but for safety) are copied.
	for i := range iv.attrs {
		a := &iv.attrs[i]
		if !within(a.Key, iv.attrsJSON) {
			a.Key = strings.Clone(a.Key)
		}
		if !within(a.Value, iv.attrsJSON) {
			a.Value = strings.Clone(a.Value)
		}
	}
	iv.dnsData()
	return iv, probeGen, true
}

// within reports whether s's bytes lie inside t's (an empty s always).
func within(s, t string) bool {
	if s == "" {
		return true
	}
	ps, pt := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(t)))
	return ps >= pt && ps+uintptr(len(s)) <= pt+uintptr(len(t))
}

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
	s, _, ok := p.raw()
	if !ok {
		return "", false
	}
	return string(s), true
}

// raw reads what str reads, without copying it: the bytes between the
// quotes, and whether they are all ASCII.
func (p *jsonParser) raw() (s []byte, ascii, ok bool) {
	if !p.byte('"') {
		return nil, false, false
	}
	start := p.i
	ascii = true
	for ; p.i < len(p.b); p.i++ {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(s) {
				return nil, false, false
			}
			return s, ascii, true
		case c == '\\' || c < 0x20:
			return nil, false, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false, false
}

// status reads a string as str does, without allocating the health
// statuses every instance record holds.
func (p *jsonParser) status() (string, bool) {
	s, _, ok := p.raw()
	if !ok {
		return "", false
	}
	switch string(s) {
	case "":
		return "", true
	case cloudmap.CustomHealthStatusHealthy:
		return cloudmap.CustomHealthStatusHealthy, true
	case cloudmap.CustomHealthStatusUnhealthy:
		return cloudmap.CustomHealthStatusUnhealthy, true
	}
	return string(s), true
}

// attrs reads an object of strings, appending its pairs to attrs in
// order. A key or value in ASCII points into p.b (valid only as long as
// p.b is); one that is not is a copy.
func (p *jsonParser) attrs(attrs []cloudmap.Attribute) ([]cloudmap.Attribute, bool) {
	ok := p.pairs(p.alias, func(k, v string) { attrs = append(attrs, cloudmap.Attribute{Key: k, Value: v}) })
	return attrs, ok
}

// pairs reads an object of strings, each read by str, and gives add its
// pairs in order.
func (p *jsonParser) pairs(str func() (string, bool), add func(k, v string)) bool {
	if !p.byte('{') {
		return false
	}
	if p.byte('}') {
		return true
	}
	for {
		k, ok := str()
		if !ok || !p.byte(':') {
			return false
		}
		v, ok := str()
		if !ok {
			return false
		}
		add(k, v)
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
	}
}

// alias reads a string as str does; in ASCII, it points into p.b.
func (p *jsonParser) alias() (string, bool) {
	s, ascii, ok := p.raw()
	switch {
	case !ok:
		return "", false
	case len(s) == 0:
		return "", true
	case ascii:
		return unsafe.String(&s[0], len(s)), true
	}
	return string(s), true
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
	if m == nil {
		m = make(map[string]string, 8)
	}
	if !p.pairs(p.str, func(k, v string) { m[k] = v }) {
		return nil, false
	}
	return m, true
}
