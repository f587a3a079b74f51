package registry

import (
	"bytes"
	"sync"

	"github.com/cairn-dev/cairn/internal/store"
)

// decodeCache keeps the last decoded value of each record that many
// writes read but few change (a service's and its namespace's, read by
// every registration), with the stored bytes it was decoded from. A read
// whose bytes are the same returns the same value instead of decoding
// JSON again: in a registration's closure that decoding was most of its
// CPU. Its values are shared by every caller: read them, never change
// them.
type decodeCache struct {
	mu sync.Mutex
	m  map[string]cachedRecord
}

// cachedRecord is one cached record: its stored bytes and its value (a *T).
type cachedRecord struct {
	raw []byte
	val any
}

// maxDecoded bounds the cache: past it, it starts again empty (a server
// with that many services in active use decodes more, nothing else).
const maxDecoded = 4096

// sharedRecord is getRecord through c (nil: getRecord itself): the
// record at key in tx, or nil if absent, decoded once for each new
// value.
func sharedRecord[T any](c *decodeCache, tx store.Tx, key string) (*T, error) {
	if c == nil {
		return getRecord[T](tx, key)
	}
	b, ok, err := tx.Get(key)
	if err != nil || !ok {
		return nil, err
	}
	c.mu.Lock()
	e, hit := c.m[key]
	c.mu.Unlock()
	if hit && bytes.Equal(e.raw, b) {
		if v, ok := e.val.(*T); ok {
			return v, nil
		}
	}
	v, err := decode[T](b)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxDecoded {
		c.m = make(map[string]cachedRecord)
	}
	c.m[key] = cachedRecord{raw: bytes.Clone(b), val: v}
	c.mu.Unlock()
	return v, nil
}
