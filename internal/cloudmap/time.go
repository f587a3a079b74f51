package cloudmap

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Time is a timestamp as the AWS JSON protocol carries it: a JSON number of
// seconds since the Unix epoch, with a millisecond fraction
// (1587055860.121).
type Time struct{ time.Time }

// NewTime returns t as a Time, truncated to the millisecond.
func NewTime(t time.Time) *Time { return &Time{t.Truncate(time.Millisecond)} }

// MarshalJSON writes epoch seconds with three decimals.
func (t Time) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', 3, 64), nil
}

// UnmarshalJSON reads epoch seconds, whole or fractional.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("cloudmap: timestamp %s is not a number of epoch seconds", b)
	}
	// Round, not truncate: 1083267246.850 parses as 1083267246.84999…,
	// which truncation would make …849 ms.
	t.Time = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
	return nil
}
