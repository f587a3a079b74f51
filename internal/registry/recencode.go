package registry

import (
	"slices"
	"strconv"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// The records every registration writes are encoded by hand: encoding/json
// (reflection, a map's keys sorted through reflect.Value) was most of
// the CPU its closure spent encoding. The output is encoding/json's for
// the same record, field for field and in the same order, except that
// '<', '>' and '&' are not escaped as \u003c (both decode the same);
// TestRecordEncoders compares the two.

// appendOpRecord appends the JSON of an operation's record that has no
// work left (Work nil: every operation at its end).
func appendOpRecord(b []byte, o *opRecord) []byte {
	b = append(b, `{"a":`...)
	b = cloudmap.AppendJSONString(b, o.Account)
	b = append(b, `,"r":`...)
	b = cloudmap.AppendJSONString(b, o.Region)
	b = append(b, `,"id":`...)
	b = cloudmap.AppendJSONString(b, o.ID)
	b = append(b, `,"type":`...)
	b = cloudmap.AppendJSONString(b, o.Type)
	b = append(b, `,"status":`...)
	b = cloudmap.AppendJSONString(b, o.Status)
	b = appendOptional(b, `,"errCode":`, o.ErrorCode)
	b = appendOptional(b, `,"errMsg":`, o.ErrorMessage)
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, o.CreateDate, 10)
	b = append(b, `,"updated":`...)
	b = strconv.AppendInt(b, o.UpdateDate, 10)
	b = append(b, `,"targets":`...)
	b = appendStringMap(b, o.Targets)
	b = appendOptional(b, `,"lock":`, o.Lock)
	b = appendOptional(b, `,"req":`, o.Requester)
	b = appendOptional(b, `,"idem":`, o.IdemKey)
	return append(b, '}')
}

// appendInstRecord appends the JSON of an instance's record.
func appendInstRecord(b []byte, r *instRecord) []byte {
	b = append(b, `{"svc":`...)
	b = cloudmap.AppendJSONString(b, r.ServiceID)
	b = append(b, `,"id":`...)
	b = cloudmap.AppendJSONString(b, r.ID)
	b = appendOptional(b, `,"crid":`, r.CreatorRequestID)
	b = append(b, `,"by":`...)
	b = cloudmap.AppendJSONString(b, r.CreatedBy)
	b = append(b, `,"attrs":`...)
	b = appendStringMap(b, r.Attributes)
	b = appendOptional(b, `,"custom":`, r.Custom)
	b = appendOptional(b, `,"customPending":`, r.CustomPending)
	b = appendOptionalInt(b, `,"customAt":`, r.CustomAt)
	b = appendOptional(b, `,"probe":`, r.Probe)
	b = appendOptional(b, `,"forced":`, r.Forced)
	b = appendOptionalInt(b, `,"forcedUntil":`, r.ForcedUntil)
	b = appendOptionalInt(b, `,"probeGen":`, r.ProbeGen)
	return append(b, '}')
}

// appendIdemRecord appends the JSON of an idempotency record.
func appendIdemRecord(b []byte, r *idemRecord) []byte {
	b = append(b, `{"fp":`...)
	b = cloudmap.AppendJSONString(b, r.Fingerprint)
	b = appendOptional(b, `,"op":`, r.OperationID)
	b = appendOptional(b, `,"res":`, r.ResourceID)
	return append(b, '}')
}

// appendOptional appends name and s, unless s is empty (omitempty).
func appendOptional(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return cloudmap.AppendJSONString(append(b, name...), s)
}

// appendOptionalInt appends name and n, unless n is 0 (omitempty).
func appendOptionalInt(b []byte, name string, n int64) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(append(b, name...), n, 10)
}

// appendStringMap appends m as a JSON object, keys in order, or null.
func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = cloudmap.AppendJSONString(b, k)
		b = append(b, ':')
		b = cloudmap.AppendJSONString(b, m[k])
	}
	return append(b, '}')
}
