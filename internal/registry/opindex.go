package registry

import (
	"slices"
	"sort"
	"sync/atomic"
	"unique"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// opView is a retained operation as the view keeps it: what GetOperation
// and ListOperations show, in as little memory as that allows. A server
// keeps every operation of the retention period (72 hours by default), so
// at scale operations can outnumber instances: the stored record (JSON,
// with a map of targets) is decoded once and folded into this struct.
// Strings that many operations share (scope, namespace and service IDs)
// are interned handles; the error of a FAIL, rare, sits behind a pointer.
// About 300 bytes per operation in all, with its place in the indexes
// (BenchmarkViewMemoryPerOperation).
type opView struct {
	id        string
	scope     unique.Handle[scope]
	requester unique.Handle[string] // zero unless started by an account the namespace is shared with
	ns, svc   unique.Handle[string] // zero when not a target
	inst      string
	created   int64
	updated   int64
	typ       uint8 // index in operationTypes
	status    uint8 // index in operationStatuses
	oldKey    bool  // stored under the earlier layout's key, op/<id>
	fail      *opFailure
	rev       int64 // the store revision of the commit that last wrote the record
}

// handleValue is h's string, or "" for the zero handle.
func handleValue(h unique.Handle[string]) string {
	if h == (unique.Handle[string]{}) {
		return ""
	}
	return h.Value()
}

func handleOf(s string) unique.Handle[string] {
	if s == "" {
		return unique.Handle[string]{}
	}
	return unique.Make(s)
}

// newOpView folds a stored operation record into an opView.
func newOpView(rec *opRecord) *opView {
	o := &opView{
		id: rec.ID, scope: unique.Make(rec.scope), requester: handleOf(rec.Requester),
		ns: handleOf(rec.Targets[cloudmap.OperationTargetTypeNamespace]), svc: handleOf(rec.Targets[cloudmap.OperationTargetTypeService]),
		inst: rec.Targets[cloudmap.OperationTargetTypeInstance], created: rec.CreateDate, updated: rec.UpdateDate,
		typ: uint8(max(slices.Index(operationTypes, rec.Type), 0)), status: uint8(max(slices.Index(operationStatuses, rec.Status), 0)),
	}
	if rec.ErrorCode != "" || rec.ErrorMessage != "" {
		o.fail = &opFailure{rec.ErrorCode, rec.ErrorMessage}
	}
	return o
}

func (o *opView) account() string { return o.scope.Value().Account }
func (o *opView) typeName() string {
	return operationTypes[o.typ]
}
func (o *opView) statusName() string { return operationStatuses[o.status] }

func (o *opView) done() bool {
	s := o.statusName()
	return s == cloudmap.OperationStatusSuccess || s == cloudmap.OperationStatusFail
}

// target returns the ID of the operation's target of type typ, or "".
func (o *opView) target(typ string) string {
	switch typ {
	case cloudmap.OperationTargetTypeNamespace:
		return handleValue(o.ns)
	case cloudmap.OperationTargetTypeService:
		return handleValue(o.svc)
	case cloudmap.OperationTargetTypeInstance:
		return o.inst
	}
	return ""
}

// before reports whether a comes before b in ListOperations' order:
// newest first, then by ID.
func (a *opView) before(b *opView) bool {
	if a.created != b.created {
		return a.created > b.created
	}
	return a.id < b.id
}

// opListKey names one ordered list of operations: every operation a
// caller (vis: its account and region) sees, or only those that target one
// namespace or one service.
type opListKey struct {
	vis    unique.Handle[scope]
	kind   uint8 // opAll, opByNamespace or opByService
	target unique.Handle[string]
}

const (
	opAll uint8 = iota
	opByNamespace
	opByService
)

// opListsOf returns the keys of the lists o belongs to: for the scope it
// is kept in and, when another account started it on a shared namespace,
// for that account too; each whole, by namespace and by service.
func opListsOf(o *opView) []opListKey {
	vis := []unique.Handle[scope]{o.scope}
	if r := handleValue(o.requester); r != "" {
		if s := unique.Make(scope{Account: r, Region: o.scope.Value().Region}); s != o.scope {
			vis = append(vis, s)
		}
	}
	keys := make([]opListKey, 0, 3*len(vis))
	for _, v := range vis {
		keys = append(keys, opListKey{vis: v, kind: opAll})
		if o.ns != (unique.Handle[string]{}) {
			keys = append(keys, opListKey{vis: v, kind: opByNamespace, target: o.ns})
		}
		if o.svc != (unique.Handle[string]{}) {
			keys = append(keys, opListKey{vis: v, kind: opByService, target: o.svc})
		}
	}
	return keys
}

// opBlock is the most operations one block of an opList holds. Inserting
// moves at most this many pointers, plus one pointer per block when a
// block splits; finding a position is two binary searches.
const opBlock = 256

// opList holds operations in ListOperations' order (see opView.before) in
// blocks of at most opBlock, so that a page starts with a binary search
// and costs what it returns, and an insertion or removal anywhere costs a
// block, not the whole list. Operations are created in time order, so
// nearly every insertion goes to the front; expiry removes from the back.
type opList struct {
	blocks [][]*opView // each sorted and non-empty
	n      int
}

// find returns the block and position of the first operation not before
// o: where o is, or would be inserted.
func (l *opList) find(o *opView) (int, int) {
	b := sort.Search(len(l.blocks), func(i int) bool {
		blk := l.blocks[i]
		return !blk[len(blk)-1].before(o)
	})
	if b == len(l.blocks) {
		return b, 0
	}
	blk := l.blocks[b]
	return b, sort.Search(len(blk), func(i int) bool { return !blk[i].before(o) })
}

func (l *opList) insert(o *opView) {
	b, i := l.find(o)
	if b == len(l.blocks) {
		if b > 0 && len(l.blocks[b-1]) < opBlock {
			l.blocks[b-1] = append(l.blocks[b-1], o)
			l.n++
			return
		}
		l.blocks = append(l.blocks, []*opView{o})
		l.n++
		return
	}
	blk := l.blocks[b]
	if i < len(blk) && blk[i] == o {
		return
	}
	if len(blk) == opBlock { // split in two halves, then insert in one
		half := opBlock / 2
		right := append(make([]*opView, 0, opBlock), blk[half:]...)
		left := blk[:half:opBlock]
		clear(blk[half:])
		l.blocks = slices.Insert(l.blocks, b+1, right)
		l.blocks[b] = left
		if i > half {
			b, i = b+1, i-half
		}
		blk = l.blocks[b]
	}
	l.blocks[b] = slices.Insert(blk, i, o)
	l.n++
}

// remove removes o, which must have the same created and id as when it
// was inserted.
func (l *opList) remove(o *opView) {
	b, i := l.find(o)
	if b == len(l.blocks) || i == len(l.blocks[b]) || l.blocks[b][i] != o {
		return
	}
	blk := slices.Delete(l.blocks[b], i, i+1)
	l.n--
	if len(blk) == 0 {
		l.blocks = slices.Delete(l.blocks, b, b+1)
		return
	}
	l.blocks[b] = blk
}

// after calls fn for each operation after the ListOperations sort key
// after ("" for from the start), in order, until fn returns false.
func (l *opList) after(after string, fn func(*opView) bool) {
	b, i := 0, 0
	if after != "" {
		past := sortKeyPast(after)
		b = sort.Search(len(l.blocks), func(k int) bool {
			blk := l.blocks[k]
			return past(blk[len(blk)-1])
		})
		if b < len(l.blocks) {
			blk := l.blocks[b]
			i = sort.Search(len(blk), func(k int) bool { return past(blk[k]) })
		}
	}
	for ; b < len(l.blocks); b, i = b+1, 0 {
		for _, o := range l.blocks[b][i:] {
			if !fn(o) {
				return
			}
		}
	}
}

// backward calls fn for each operation from the oldest, until fn returns
// false.
func (l *opList) backward(fn func(*opView) bool) {
	for b := len(l.blocks) - 1; b >= 0; b-- {
		blk := l.blocks[b]
		for i := len(blk) - 1; i >= 0; i-- {
			if !fn(blk[i]) {
				return
			}
		}
	}
}

// opSortKey is the key page tokens carry for an operation; its string
// order is ListOperations' order.
func opSortKey(o *opView) string { return createdKey(opSortMax-o.created, o.id) }

// opSortMax is the largest creation time opSortKey writes in its 15
// digits; it writes opSortMax minus the time, so that newer sorts first.
const opSortMax = 999999999999999

// sortKeyPast returns whether an operation's opSortKey is past the key
// after, without writing the operation's key: a page's binary search
// compares with after some 20 times. A key of the 15 digits opSortKey
// writes is compared as a number and an ID; any other (none that
// opSortKey writes for a time from 0 to opSortMax) as a string.
func sortKeyPast(after string) func(*opView) bool {
	inv, id, ok := parseSortKey(after)
	return func(o *opView) bool {
		if !ok || o.created < 0 || o.created > opSortMax {
			return opSortKey(o) > after
		}
		if v := opSortMax - o.created; v != inv {
			return v > inv
		}
		return o.id > id
	}
}

// parseSortKey splits a key of the form opSortKey writes, 15 digits, a
// slash and an ID, into its number and ID.
func parseSortKey(key string) (int64, string, bool) {
	const digits = 15
	if len(key) <= digits || key[digits] != '/' {
		return 0, "", false
	}
	var n int64
	for _, c := range []byte(key[:digits]) {
		if c < '0' || c > '9' {
			return 0, "", false
		}
		n = n*10 + int64(c-'0')
	}
	return n, key[digits+1:], true
}

// opIndex is the view's retained operations: by ID, and in ordered lists
// per caller, namespace and service, with a count per account.
type opIndex struct {
	byID      map[string]*opView
	lists     map[opListKey]*opList
	byAccount map[string]int
	// limit is the most operations an account keeps (0: no limit); over
	// is set when a put takes an account past it, for the registry to
	// expire that account's oldest finished operations.
	limit int
	over  atomic.Bool
}

func newOpIndex() opIndex {
	return opIndex{byID: map[string]*opView{}, lists: map[opListKey]*opList{}, byAccount: map[string]int{}}
}

// setLimit sets the per-account limit of x, noting whether an account is
// already past it. The view's write lock must be held.
func (x *opIndex) setLimit(limit int) {
	x.limit = limit
	for _, n := range x.byAccount {
		if limit > 0 && n > limit {
			x.over.Store(true)
		}
	}
}

// overLimit returns up to n finished operations to expire so that no
// account keeps more than the limit: each account's oldest, by creation.
// The view's read lock must be held.
func (x *opIndex) overLimit(n int) []string {
	if x.limit <= 0 {
		return nil
	}
	var ids []string
	for account, count := range x.byAccount {
		excess := min(count-x.limit, n-len(ids))
		if excess <= 0 {
			continue
		}
		var oldest []*opView // from the account's lists, one per region
		for k, l := range x.lists {
			if k.kind != opAll || k.vis.Value().Account != account {
				continue
			}
			found := 0
			l.backward(func(o *opView) bool {
				// An operation another account started on a shared
				// namespace is also in that account's list; it counts
				// where it is kept.
				if o.scope == k.vis && o.done() {
					oldest = append(oldest, o)
					found++
				}
				return found < excess
			})
		}
		slices.SortFunc(oldest, func(a, b *opView) int {
			if b.before(a) {
				return -1
			}
			if a.before(b) {
				return 1
			}
			return 0
		})
		for _, o := range oldest[:min(excess, len(oldest))] {
			ids = append(ids, o.id)
		}
		if len(ids) == n {
			break
		}
	}
	return ids
}

// put adds o, or replaces the operation of the same ID.
func (x *opIndex) put(o *opView) {
	if old := x.byID[o.id]; old != nil {
		if old.created == o.created && old.scope == o.scope && old.requester == o.requester && old.ns == o.ns && old.svc == o.svc {
			*old = *o // the same place in every list: update in place
			return
		}
		x.remove(o.id)
	}
	x.byID[o.id] = o
	a := o.account()
	x.byAccount[a]++
	if x.limit > 0 && x.byAccount[a] > x.limit {
		x.over.Store(true)
	}
	for _, k := range opListsOf(o) {
		l := x.lists[k]
		if l == nil {
			l = &opList{}
			x.lists[k] = l
		}
		l.insert(o)
	}
}

func (x *opIndex) remove(id string) {
	o := x.byID[id]
	if o == nil {
		return
	}
	delete(x.byID, id)
	if a := o.account(); x.byAccount[a] <= 1 {
		delete(x.byAccount, a)
	} else {
		x.byAccount[a]--
	}
	for _, k := range opListsOf(o) {
		if l := x.lists[k]; l != nil {
			l.remove(o)
			if l.n == 0 {
				delete(x.lists, k)
			}
		}
	}
}

// changesInstances reports whether the operation registered or
// deregistered an instance: one that ended in SUCCESS.
func (o *opView) changesInstances() bool {
	t := o.typeName()
	return o.statusName() == cloudmap.OperationStatusSuccess &&
		(t == cloudmap.OperationTypeRegisterInstance || t == cloudmap.OperationTypeDeregisterInstance)
}
