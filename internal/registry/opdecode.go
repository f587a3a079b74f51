package registry

// decodeOperation decodes an operation record. Every registration and
// deregistration writes one, and every server applies every write to its
// view, so the records encode writes for finished operations (compact
// JSON, exact field names, strings without escapes, no work left) are
// parsed by hand with decodeInstance's parser; anything else goes
// through encoding/json, so the result is always what decode[opRecord]
// gives.
func decodeOperation(b []byte) (*opRecord, error) {
	if rec, ok := parseOperation(b); ok {
		return rec, nil
	}
	return decode[opRecord](b)
}

// parseOperation is decodeOperation's fast path; ok false means "use
// encoding/json", never an error. A record with work (an operation not
// done yet) takes that path.
func parseOperation(b []byte) (*opRecord, bool) {
	p := jsonParser{b: b}
	rec := &opRecord{}
	ok := p.object(func(key string) (ok bool) {
		switch key {
		case "a":
			rec.Account, ok = p.str()
		case "r":
			rec.Region, ok = p.str()
		case "id":
			rec.ID, ok = p.str()
		case "type":
			rec.Type, ok = p.str()
		case "status":
			rec.Status, ok = p.str()
		case "errCode":
			rec.ErrorCode, ok = p.str()
		case "errMsg":
			rec.ErrorMessage, ok = p.str()
		case "created":
			rec.CreateDate, ok = p.int()
		case "updated":
			rec.UpdateDate, ok = p.int()
		case "targets":
			rec.Targets, ok = p.strMap(rec.Targets)
		case "lock":
			rec.Lock, ok = p.str()
		case "req":
			rec.Requester, ok = p.str()
		case "idem":
			rec.IdemKey, ok = p.str()
		}
		return ok
	})
	return rec, ok && p.i == len(b)
}
