package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// opStart describes an asynchronous operation to start.
type opStart struct {
	// idem is the idempotency record key ("" when the call has no token);
	// fingerprint identifies the request; conflict builds the error for a
	// token reused with a different request.
	idem        string
	fingerprint string
	conflict    func(tx store.Tx, prev *idemRecord) error
	// prepare validates the request against the current state and returns
	// what the operation will do. It runs only for a new operation.
	prepare func(tx store.Tx) (*opPlan, error)
	// reads returns the keys prepare will likely read (nil: none), and
	// target is the plan's targetID when known before prepare runs: on a
	// store that prefetches (etcd) startOperation reads them (and the
	// operation's key) together, so that a registration's reads cost one
	// round trip, not one each. On bolt reads is never called.
	reads  func() []string
	target string
}

type opPlan struct {
	typ      string
	targetID string // the resource whose ID seeds the operation ID
	targets  map[string]string
	lock     string // key marking the resource busy; "" for none
	work     *opWork
	// owner is the scope of the resource, when it is not the caller's (a
	// namespace shared with the caller); the operation is kept there.
	owner *scope
}

// fingerprint identifies a request by its content without its token.
func fingerprint(v any) string {
	sum := sha256.Sum256(encode(v))
	return hex.EncodeToString(sum[:16])
}

// startOperation records an operation and, unless operations are delayed,
// runs it in the same commit. It returns the operation's ID; a retry with a
// known token and the same request returns the first call's ID.
//
// Its closure, in order: prefetch what it will read; answer a retry from
// its idempotency record; prepare the plan and check that its resource is
// not busy; pick a free operation ID; then record the token and either run
// the operation (its record written once, at its end) or record it
// SUBMITTED and hold the resource's lock for schedule.
func (r *Registry) startOperation(ctx context.Context, c Caller, s opStart) (string, error) {
	var opID string
	var created bool
	// The operation's time is taken once: a store may run the closure more
	// than once (etcd: a prefetch pass, then again after a conflict), and
	// each run must read the same operation key, or the key the prefetch
	// read is not the one the commit needs.
	start := r.now()
	err := r.update(ctx, func(tx store.Tx) error {
		opID, created = "", false
		s.prefetch(tx, c, start)
		if prev, found, err := s.retried(tx); err != nil || found {
			opID = prev
			return err
		}
		plan, err := s.prepare(tx)
		if err != nil {
			return err
		}
		if err := checkUnlocked(tx, plan.lock); err != nil {
			return err
		}
		id, at, err := freeOperationID(tx, c.Account, plan.targetID, start)
		if err != nil {
			return err
		}
		op := newOperation(c, plan, id, at, s.idem)
		if s.idem != "" {
			if err := putRecord(tx, s.idem, &idemRecord{Fingerprint: s.fingerprint, OperationID: id, ResourceID: plan.targetID}); err != nil {
				return err
			}
		}
		opID, created = id, true
		if r.cfg.OperationDelay == 0 {
			return r.execute(tx, op, true)
		}
		if plan.lock != "" {
			if err := tx.Put(plan.lock, []byte(id)); err != nil {
				return err
			}
		}
		return putRecord(tx, opKey(id), op)
	})
	if err != nil {
		return "", err
	}
	if created && r.cfg.OperationDelay > 0 {
		r.schedule(opID)
	}
	return opID, nil
}

// prefetch hints tx with the keys the closure will read (over etcd they
// then cost one round trip, not one each); a no-op on stores that read
// locally.
func (s *opStart) prefetch(tx store.Tx, c Caller, at time.Time) {
	if _, ok := tx.(store.Prefetcher); !ok || s.idem == "" && s.reads == nil {
		return
	}
	keys := []string{s.idem}
	if s.reads != nil {
		keys = append(keys, s.reads()...)
	}
	if s.target != "" {
		keys = append(keys, opKey(operationID(c.Account, s.target, at)))
	}
	store.Prefetch(tx, keys...)
}

// retried reports whether an earlier call had the same idempotency
// token, and returns its operation's ID; s.conflict's error when that
// call's request was a different one.
func (s *opStart) retried(tx store.Tx) (opID string, found bool, err error) {
	if s.idem == "" {
		return "", false, nil
	}
	prev, err := getRecord[idemRecord](tx, s.idem)
	if err != nil || prev == nil {
		return "", false, err
	}
	if prev.Fingerprint != s.fingerprint {
		return "", false, s.conflict(tx, prev)
	}
	return prev.OperationID, true, nil
}

// checkUnlocked refuses an operation on a resource another operation in
// flight holds (lock "": none needed).
func checkUnlocked(tx store.Tx, lock string) error {
	if lock == "" {
		return nil
	}
	held, ok, err := tx.Get(lock)
	if err != nil {
		return err
	}
	if ok {
		return duplicate(string(held))
	}
	return nil
}

// freeOperationID returns the ID of an operation on target created at
// at, or, when an operation already has it, the first free one a
// millisecond later at a time, with the time it stands for.
func freeOperationID(tx store.Tx, account, target string, at time.Time) (string, time.Time, error) {
	for {
		id := operationID(account, target, at)
		_, taken, err := tx.Get(opKey(id))
		if err != nil || !taken {
			return id, at, err
		}
		at = at.Add(time.Millisecond)
	}
}

// newOperation is the SUBMITTED record of operation id, created at at by
// c following plan. It is kept in the resource owner's scope, with c as
// its requester, when the resource is shared with c.
func newOperation(c Caller, plan *opPlan, id string, at time.Time, idem string) *opRecord {
	ms := at.UnixMilli()
	opScope, requester := c.scope(), ""
	if plan.owner != nil && *plan.owner != opScope {
		opScope, requester = *plan.owner, c.Account
	}
	return &opRecord{
		scope: opScope, Requester: requester, ID: id, Type: plan.typ, Status: cloudmap.OperationStatusSubmitted,
		CreateDate: ms, UpdateDate: ms, Targets: plan.targets, Lock: plan.lock, IdemKey: idem, Work: plan.work,
	}
}

// execute does an operation's work in tx and records its end: SUCCESS, or
// FAIL with an error code and message when the state no longer allows it.
// prepared says that the operation's plan was prepared earlier in tx (an
// operation run as it starts), so what prepare read and checked holds.
func (r *Registry) execute(tx store.Tx, op *opRecord, prepared bool) error {
	var failure *opFailure
	var err error
	switch op.Type {
	case cloudmap.OperationTypeCreateNamespace:
		failure, err = r.execCreateNamespace(tx, op.Work.Namespace)
	case cloudmap.OperationTypeDeleteNamespace:
		failure, err = r.execDeleteNamespace(tx, op.Work.NamespaceID)
	case cloudmap.OperationTypeUpdateNamespace:
		failure, err = r.execUpdateNamespace(tx, op.Work)
	case cloudmap.OperationTypeUpdateService:
		failure, err = r.execUpdateService(tx, op.Work)
	case cloudmap.OperationTypeRegisterInstance:
		failure, err = r.execRegister(tx, op.Work.Instance, prepared)
	case cloudmap.OperationTypeDeregisterInstance:
		failure, err = r.execDeregister(tx, op.Work.ServiceID, op.Work.InstanceID)
	default:
		failure = &opFailure{"INTERNAL_FAILURE", fmt.Sprintf("unknown operation type %q", op.Type)}
	}
	if err != nil {
		return err
	}
	op.Status = cloudmap.OperationStatusSuccess
	if failure != nil {
		op.Status = cloudmap.OperationStatusFail
		op.ErrorCode, op.ErrorMessage = failure.code, failure.message
	}
	op.UpdateDate = r.now().UnixMilli()
	if op.UpdateDate < op.CreateDate {
		op.UpdateDate = op.CreateDate
	}
	op.Work = nil
	if op.Lock != "" {
		if err := tx.Delete(op.Lock); err != nil {
			return err
		}
	}
	return putRecord(tx, opKey(op.ID), op)
}

// opFailure is why an operation ended FAIL.
type opFailure struct{ code, message string }

// schedule moves a delayed operation through PENDING to its end.
func (r *Registry) schedule(id string) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		half := r.cfg.OperationDelay / 2
		if !r.sleep(half) {
			return
		}
		err := r.update(r.ctx, func(tx store.Tx) error {
			op, err := getRecord[opRecord](tx, opKey(id))
			if err != nil || op == nil || op.Status != cloudmap.OperationStatusSubmitted {
				return err
			}
			op.Status = cloudmap.OperationStatusPending
			op.UpdateDate = r.now().UnixMilli()
			return putRecord(tx, opKey(id), op)
		})
		if err != nil {
			r.log.Warn("registry: operation to PENDING", "op", id, "err", err)
		}
		if !r.sleep(r.cfg.OperationDelay - half) {
			return
		}
		err = r.update(r.ctx, func(tx store.Tx) error {
			op, err := getRecord[opRecord](tx, opKey(id))
			if err != nil || op == nil || op.done() {
				return err
			}
			return r.execute(tx, op, false)
		})
		if err != nil {
			r.log.Warn("registry: operation could not finish; it resumes at next start", "op", id, "err", err)
		}
	}()
}

func (r *Registry) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// resumeOperations schedules every operation left unfinished by a stop.
func (r *Registry) resumeOperations() {
	v := r.currentView()
	v.mu.RLock()
	var pending []string
	for id, op := range v.ops.byID {
		if !op.done() {
			pending = append(pending, id)
		}
	}
	v.mu.RUnlock()
	for _, id := range pending {
		if r.cfg.OperationDelay > 0 {
			r.schedule(id)
			continue
		}
		err := r.update(r.ctx, func(tx store.Tx) error {
			op, err := getRecord[opRecord](tx, opKey(id))
			if err != nil || op == nil || op.done() {
				return err
			}
			return r.execute(tx, op, false)
		})
		if err != nil {
			r.log.Warn("registry: resume operation", "op", id, "err", err)
		}
	}
}

// janitor drops finished operations, and their idempotency records, once
// they are older than the retention period, or when their account keeps
// more than Config.MaxOperationsPerAccount (then at once: follow wakes it).
func (r *Registry) janitor() {
	defer r.wg.Done()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		r.expireOperations()
		r.trimOperations()
		select {
		case <-tick.C:
		case <-r.trim:
		case <-r.ctx.Done():
			return
		}
	}
}

// deleteBatch is how many operations one commit deletes: up to 1,000,
// fewer on a store that bounds the keys one commit may write, such as
// etcd (each operation may take two deletes).
func (r *Registry) deleteBatch() int {
	batch := 1000
	if l, ok := r.st.(interface{ MaxWrites() int }); ok {
		batch = max(min(batch, l.MaxWrites()/3), 1) // two deletes and a floor each
	}
	return batch
}

// expireOperations deletes expired operations in batches, until none is
// left.
func (r *Registry) expireOperations() {
	batch := r.deleteBatch()
	for r.ctx.Err() == nil {
		old := r.expiredOperations(batch)
		if len(old) == 0 || r.deleteOperations(old) == 0 {
			return
		}
	}
}

// trimOperations deletes the oldest finished operations of every account
// that keeps more than Config.MaxOperationsPerAccount, in batches, until
// none does (or what is left is unfinished).
func (r *Registry) trimOperations() {
	batch := r.deleteBatch()
	for r.ctx.Err() == nil {
		v := r.currentView()
		v.ops.over.Store(false) // a put after this sets it again
		v.mu.RLock()
		ids := v.ops.overLimit(batch)
		v.mu.RUnlock()
		if len(ids) == 0 || r.deleteOperations(ids) == 0 {
			return
		}
	}
}

// deleteOperations deletes the operations ids and their idempotency
// records in one commit; it returns how many it deleted, 0 if the commit
// failed. An operation is read at its key and, if absent there, at the
// earlier layout's (a server of the earlier version may share the store):
// one found under neither is gone already, and the callers' loops stop
// at a round that deletes nothing rather than pick the same IDs again.
func (r *Registry) deleteOperations(ids []string) int {
	// The InstancesRevision the registrations and deregistrations among
	// them give their services moves to the services' records as they go.
	floors := map[string]int64{}
	v := r.currentView()
	v.mu.RLock()
	for _, id := range ids {
		if o := v.ops.byID[id]; o != nil && o.changesInstances() {
			svc := handleValue(o.svc)
			floors[svc] = max(floors[svc], o.rev)
		}
	}
	v.mu.RUnlock()
	deleted := 0
	err := r.update(r.ctx, func(tx store.Tx) error {
		deleted = 0
		if err := foldRevisions(tx, floors); err != nil {
			return err
		}
		for _, id := range ids {
			key := opKey(id)
			op, err := getRecord[opRecord](tx, key)
			if err == nil && op == nil && key != pOperation+id {
				key = pOperation + id
				op, err = getRecord[opRecord](tx, key)
			}
			if err != nil {
				return err
			}
			if op == nil {
				continue
			}
			deleted++
			if op.IdemKey != "" {
				if err := tx.Delete(op.IdemKey); err != nil {
					return err
				}
			}
			if err := tx.Delete(key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.log.Warn("registry: expire operations", "err", err)
		return 0
	}
	return deleted
}

// expiredOperations returns up to n finished operations older than the
// retention period. Each caller's list is walked from its oldest
// operation, up to the first created within the retention (an operation
// is updated no earlier than it is created), so the walk costs what it
// finds plus the unfinished operations it passes.
func (r *Registry) expiredOperations(n int) []string {
	cutoff := r.now().Add(-r.cfg.OperationRetention).UnixMilli()
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	var old []string
	for k, l := range v.ops.lists {
		if k.kind != opAll {
			continue
		}
		l.backward(func(o *opView) bool {
			if o.created >= cutoff || len(old) == n {
				return false
			}
			// An operation another account started on a shared namespace
			// is in two callers' lists; take it from its own scope's.
			if o.scope == k.vis && o.done() && o.updated < cutoff {
				old = append(old, o.id)
			}
			return true
		})
	}
	return old
}

// GetOperation returns one operation.
func (r *Registry) GetOperation(ctx context.Context, c Caller, in *cloudmap.GetOperationRequest) (*cloudmap.GetOperationResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	if err := check(in); err != nil {
		return nil, err
	}
	owner := in.OwnerAccount
	if owner == "" {
		owner = c.Account
	}
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	op := v.ops.byID[in.OperationId]
	if op == nil || op.account() != owner || !opVisible(c, op) {
		return nil, notFound(ResOperation, in.OperationId)
	}
	return &cloudmap.GetOperationResponse{Operation: operationOut(op)}, nil
}

// opVisible reports whether c may see an operation: one in its own account
// and region, or one it started on a namespace shared with it.
func opVisible(c Caller, op *opView) bool {
	s := op.scope.Value()
	return s == c.scope() || handleValue(op.requester) == c.Account && s.Region == c.Region
}

func operationOut(op *opView) *cloudmap.Operation {
	targets := make(map[string]string, 3)
	for _, t := range []string{cloudmap.OperationTargetTypeNamespace, cloudmap.OperationTargetTypeService, cloudmap.OperationTargetTypeInstance} {
		if id := op.target(t); id != "" {
			targets[t] = id
		}
	}
	out := &cloudmap.Operation{
		Id: op.id, OwnerAccount: op.account(), Type: op.typeName(), Status: op.statusName(),
		CreateDate: msTime(op.created), UpdateDate: msTime(op.updated), Targets: targets,
	}
	if op.fail != nil {
		out.ErrorCode, out.ErrorMessage = op.fail.code, op.fail.message
	}
	return out
}

func msTime(ms int64) *cloudmap.Time { return cloudmap.NewTime(time.UnixMilli(ms).UTC()) }
