package registry

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cairn-dev/cairn/internal/store"
)

// decoded is a change's record, decoded (and for instances and
// operations, folded into what the view keeps) before the view's lock is
// taken: nothing is decoded while readers wait. One field is set, none
// for a deletion or a key the view does not keep.
type decoded struct {
	ns   *nsRecord
	svc  *svcRecord
	inst *instView
	// probeGen is the instance record's ProbeGen: put keeps its probe
	// result only if the service's health check is still that one.
	probeGen int64
	op       *opView
	revBase  *int64
}

// decodeChange decodes c's record.
func decodeChange(c store.Change) (decoded, error) {
	var d decoded
	if c.Deleted() {
		return d, nil
	}
	var err error
	switch {
	case strings.HasPrefix(c.Key, pNamespace):
		d.ns, err = decode[nsRecord](c.Value)
	case strings.HasPrefix(c.Key, pService):
		d.svc, err = decode[svcRecord](c.Value)
	case strings.HasPrefix(c.Key, pInstance):
		d.inst, d.probeGen, err = decodeInstView(c.Value)
	case c.Key == kRevBase:
		d.revBase, err = decode[int64](c.Value)
	case strings.HasPrefix(c.Key, pOperation):
		var rec *opRecord
		if rec, err = decodeOperation(c.Value); err == nil {
			d.op = newOpView(rec)
		}
	}
	if err != nil {
		return d, fmt.Errorf("%s: %w", c.Key, err)
	}
	return d, nil
}

// decodeAll decodes every change, by index: in parallel on every CPU
// when there are many (at a start, a million instance records).
func decodeAll(changes []store.Change) ([]decoded, error) {
	out := make([]decoded, len(changes))
	const chunk = 4096
	workers := min(runtime.GOMAXPROCS(0), (len(changes)+chunk-1)/chunk)
	if workers <= 1 {
		for i, c := range changes {
			d, err := decodeChange(c)
			if err != nil {
				return nil, err
			}
			out[i] = d
		}
		return out, nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for firstErr.Load() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(changes) {
					return
				}
				for i := lo; i < min(lo+chunk, len(changes)); i++ {
					d, err := decodeChange(changes[i])
					if err != nil {
						firstErr.CompareAndSwap(nil, &err)
						return
					}
					out[i] = d
				}
			}
		}()
	}
	wg.Wait()
	if p := firstErr.Load(); p != nil {
		return nil, *p
	}
	return out, nil
}

func relevant(key string) bool {
	return strings.HasPrefix(key, pNamespace) || strings.HasPrefix(key, pService) ||
		strings.HasPrefix(key, pInstance) || strings.HasPrefix(key, pOperation) || key == kRevBase
}

// rank orders a commit's changes so that parents exist before children are
// added and children are gone before parents are removed.
func rank(c store.Change) int {
	var r int
	switch {
	case strings.HasPrefix(c.Key, pNamespace):
		r = 0
	case strings.HasPrefix(c.Key, pService):
		r = 1
	case strings.HasPrefix(c.Key, pInstance):
		r = 2
	default:
		r = 3
	}
	if c.Deleted() {
		return 10 - r
	}
	return r
}
