package policy

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// opKind is a condition operator's comparison, without its negation,
// set qualifier or IfExists.
type opKind uint8

const (
	opStringEquals opKind = iota
	opStringEqualsIgnoreCase
	opStringLike
	opNumericEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opArnLike
	opNull
)

// operators maps each IAM condition operator (without ForAnyValue:,
// ForAllValues: or IfExists) to its comparison and whether it negates it.
var operators = map[string]struct {
	kind opKind
	neg  bool
}{
	"StringEquals":              {opStringEquals, false},
	"StringNotEquals":           {opStringEquals, true},
	"StringEqualsIgnoreCase":    {opStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringEqualsIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"NumericEquals":             {opNumericEquals, false},
	"NumericNotEquals":          {opNumericEquals, true},
	"NumericLessThan":           {opNumericLessThan, false},
	"NumericLessThanEquals":     {opNumericLessThanEquals, false},
	"NumericGreaterThan":        {opNumericGreaterThan, false},
	"NumericGreaterThanEquals":  {opNumericGreaterThanEquals, false},
	"DateEquals":                {opDateEquals, false},
	"DateNotEquals":             {opDateEquals, true},
	"DateLessThan":              {opDateLessThan, false},
	"DateLessThanEquals":        {opDateLessThanEquals, false},
	"DateGreaterThan":           {opDateGreaterThan, false},
	"DateGreaterThanEquals":     {opDateGreaterThanEquals, false},
	"Bool":                      {opBool, false},
	"BinaryEquals":              {opBinaryEquals, false},
	"IpAddress":                 {opIPAddress, false},
	"NotIpAddress":              {opIPAddress, true},
	"ArnEquals":                 {opArnLike, false},
	"ArnLike":                   {opArnLike, false},
	"ArnNotEquals":              {opArnLike, true},
	"ArnNotLike":                {opArnLike, true},
	"Null":                      {opNull, false},
}

type setQualifier uint8

const (
	setNone setQualifier = iota
	setAny               // ForAnyValue:
	setAll               // ForAllValues:
)

// condition is one key of one operator of a statement's Condition block,
// compiled: its values parsed for the operator.
type condition struct {
	op       string // as written, for display
	kind     opKind
	neg      bool
	set      setQualifier
	ifExists bool
	key      string // canonical
	strs     []condValue
	nums     []float64
	times    []int64 // Unix nanoseconds
	nets     []netip.Prefix
	b        bool
}

// condValue is a String or ARN condition value: literal, or with policy
// variables.
type condValue struct {
	s     string
	arn   arnPattern
	isARN bool
	tmpl  *template
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
func parseOperator(op string) (kind opKind, neg bool, set setQualifier, ifExists bool, err error) {
	name := op
	if rest, ok := strings.CutPrefix(name, "ForAnyValue:"); ok {
		name, set = rest, setAny
	} else if rest, ok := strings.CutPrefix(name, "ForAllValues:"); ok {
		name, set = rest, setAll
	}
	if rest, ok := strings.CutSuffix(name, "IfExists"); ok && rest != "" {
		name, ifExists = rest, true
	}
	o, ok := operators[name]
	if !ok {
		return 0, false, 0, false, fmt.Errorf("unknown condition operator %q", op)
	}
	if o.kind == opNull && (ifExists || set != setNone) {
		return 0, false, 0, false, fmt.Errorf("condition operator %q: Null takes neither IfExists nor ForAnyValue/ForAllValues", op)
	}
	return o.kind, o.neg, set, ifExists, nil
}

// compileValues parses a condition's values for its operator.
func (c *condition) compileValues(vals []string, variables bool) error {
	for _, v := range vals {
		switch c.kind {
		case opStringEquals, opStringEqualsIgnoreCase, opStringLike, opArnLike:
			cv := condValue{s: v}
			if variables {
				t, err := parseTemplate(v)
				if err != nil {
					return err
				}
				cv.tmpl = t
			}
			if c.kind == opStringEqualsIgnoreCase {
				cv.s = strings.ToLower(v)
			}
			if c.kind == opArnLike {
				a, ok := parseARNPattern(v)
				if !ok && v != "*" {
					return fmt.Errorf("%s needs ARNs (arn:partition:service:region:account:resource, with * and ? wildcards), not %q", c.op, v)
				}
				if cv.tmpl == nil && ok {
					cv.arn, cv.isARN = a, true
				}
			}
			c.strs = append(c.strs, cv)
		case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%s needs numbers, not %q", c.op, v)
			}
			c.nums = append(c.nums, f)
		case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
			t, ok := parseDate(v)
			if !ok {
				return fmt.Errorf("%s needs dates (ISO 8601, such as 2026-12-31T23:59:59Z, or epoch seconds), not %q", c.op, v)
			}
			c.times = append(c.times, t)
		case opBool, opNull:
			switch strings.ToLower(v) {
			case "true":
				c.b = true
			case "false":
				c.b = false
			default:
				return fmt.Errorf("%s needs true or false, not %q", c.op, v)
			}
			if len(vals) != 1 {
				return fmt.Errorf("%s takes one value, true or false", c.op)
			}
		case opBinaryEquals:
			if _, err := base64.StdEncoding.DecodeString(v); err != nil {
				return fmt.Errorf("%s needs base64 values, not %q", c.op, v)
			}
			c.strs = append(c.strs, condValue{s: v})
		case opIPAddress:
			p, err := netip.ParsePrefix(v)
			if err != nil {
				a, aerr := netip.ParseAddr(v)
				if aerr != nil {
					return fmt.Errorf("%s needs IP addresses or CIDR blocks, not %q", c.op, v)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.nets = append(c.nets, p.Masked())
		}
	}
	return nil
}

// parseDate reads the forms IAM's date operators accept: ISO 8601 date
// and time (with or without seconds and zone), a date alone, or epoch
// seconds.
func parseDate(v string) (int64, bool) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= -1<<33 || n >= 1<<33 {
			return 0, false
		}
		return n * int64(time.Second), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UnixNano(), true
		}
	}
	return 0, false
}

// eval evaluates the condition against the request context.
func (c *condition) eval(ctx *Context) bool {
	if c.isDate() && !ctx.Now.IsZero() && (c.key == canonCurrentTime || c.key == canonEpochTime) {
		// The request's time, compared without formatting and parsing it.
		return c.matchTime(ctx.Now.UnixNano()) != c.neg
	}
	vals, present := ctx.get(c.key)
	if c.kind == opNull {
		// Null: true means the key must be absent, false present.
		return present != c.b
	}
	if !present || len(vals) == 0 {
		switch {
		case c.set == setAll:
			return true // every one of no values matches
		case c.set == setAny:
			return false
		case c.ifExists:
			return true
		}
		// A negated operator is true when the key is absent.
		return c.neg && !present
	}
	switch c.set {
	case setAny:
		for _, v := range vals {
			if c.match(ctx, v) != c.neg {
				return true
			}
		}
		return false
	case setAll:
		for _, v := range vals {
			if c.match(ctx, v) == c.neg {
				return false
			}
		}
		return true
	}
	// A key with several values without a set qualifier: a positive
	// operator needs one to match, a negated one needs none to.
	for _, v := range vals {
		if c.match(ctx, v) {
			return !c.neg
		}
	}
	return c.neg
}

// match reports whether one request value matches one of the
// condition's values, without the operator's negation.
func (c *condition) match(ctx *Context, v string) bool {
	switch c.kind {
	case opStringEquals, opBinaryEquals:
		for i := range c.strs {
			cv := &c.strs[i]
			if cv.tmpl == nil && cv.s == v || cv.tmpl != nil && cv.tmpl.equal(ctx, v) {
				return true
			}
		}
	case opStringEqualsIgnoreCase:
		for i := range c.strs {
			if s, ok := c.strs[i].value(ctx); ok && strings.EqualFold(s, v) {
				return true
			}
		}
	case opStringLike:
		for i := range c.strs {
			if s, ok := c.strs[i].value(ctx); ok && glob(s, v) {
				return true
			}
		}
	case opArnLike:
		for i := range c.strs {
			cv := &c.strs[i]
			if cv.isARN {
				if cv.arn.match(v) {
					return true
				}
				continue
			}
			s, ok := cv.value(ctx)
			if !ok {
				continue
			}
			if p, isARN := parseARNPattern(s); isARN {
				if p.match(v) {
					return true
				}
			} else if glob(s, v) {
				return true
			}
		}
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		for _, n := range c.nums {
			if compare(c.kind-opNumericEquals, cmp.Compare(f, n)) {
				return true
			}
		}
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := parseDate(v)
		return ok && c.matchTime(t)
	case opBool:
		switch strings.ToLower(v) {
		case "true":
			return c.b
		case "false":
			return !c.b
		}
	case opIPAddress:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range c.nets {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

func (c *condition) isDate() bool { return c.kind >= opDateEquals && c.kind <= opDateGreaterThanEquals }

// matchTime compares a time (Unix nanoseconds) with the condition's
// dates, without the operator's negation.
func (c *condition) matchTime(t int64) bool {
	for _, d := range c.times {
		if compare(c.kind-opDateEquals, cmp.Compare(t, d)) {
			return true
		}
	}
	return false
}

// value is the condition value, its variables substituted.
func (cv *condValue) value(ctx *Context) (string, bool) {
	if cv.tmpl == nil {
		return cv.s, true
	}
	return cv.tmpl.expand(ctx)
}

// compare applies a relation (0 equals, 1 less than, 2 less than or
// equals, 3 greater than, 4 greater than or equals) to a comparison's
// sign.
func compare(rel opKind, sign int) bool {
	switch rel {
	case 0:
		return sign == 0
	case 1:
		return sign < 0
	case 2:
		return sign <= 0
	case 3:
		return sign > 0
	default:
		return sign >= 0
	}
}
