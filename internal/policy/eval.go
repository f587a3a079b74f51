package policy

// Effect is the outcome of an evaluation.
type Effect uint8

// The outcomes, as AWS's policy evaluation logic names them.
const (
	// ImplicitDeny: no statement allows the request (the default).
	ImplicitDeny Effect = iota
	// Allow: a statement allows it and none denies it.
	Allow
	// ExplicitDeny: a Deny statement matches; it wins over any Allow.
	ExplicitDeny
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "allowed"
	case ExplicitDeny:
		return "explicitly denied"
	}
	return "implicitly denied"
}

// Request is what one evaluation decides: an action on one resource,
// with its context.
type Request struct {
	Action Action
	// Resource is the resource's ARN, or "*" for actions without a
	// resource type.
	Resource string
	Context  *Context
}

// Decision is an evaluation's outcome and the statement that decided it
// (none for an implicit deny).
type Decision struct {
	Effect    Effect
	Statement *StatementRef
}

// Allowed reports whether the request may go ahead.
func (d Decision) Allowed() bool { return d.Effect == Allow }

// Evaluate decides a request as AWS's policy evaluation logic does for
// identity-based policies alone: a matching Deny statement denies it
// explicitly; otherwise a matching Allow statement allows it; otherwise
// it is denied by default. A nil Policy allows everything (an identity
// without a policy file). The first matching Allow is the deciding
// statement of an allow.
func (p *Policy) Evaluate(r *Request) Decision {
	if p == nil {
		return Decision{Effect: Allow}
	}
	ctx := r.Context
	if ctx == nil {
		ctx = &Context{}
	}
	var allow *statement
	var bit actionSet
	if r.Action.Valid() {
		bit = r.Action.bit()
	}
	for _, st := range p.stmts {
		if st.actions&bit == 0 {
			continue
		}
		if !st.deny && allow != nil {
			continue // one Allow is enough; only a Deny can change it now
		}
		if !st.matchResource(r.Resource, ctx) || !st.matchConditions(ctx) {
			continue
		}
		if st.deny {
			return Decision{Effect: ExplicitDeny, Statement: &st.ref}
		}
		allow = st
	}
	if allow != nil {
		return Decision{Effect: Allow, Statement: &allow.ref}
	}
	return Decision{Effect: ImplicitDeny}
}

func (st *statement) matchResource(res string, ctx *Context) bool {
	if st.anyRes {
		return true
	}
	matched := false
	for i := range st.resources {
		if st.resources[i].match(res, ctx) {
			matched = true
			break
		}
	}
	return matched != st.notRes
}

func (rp *resourcePattern) match(res string, ctx *Context) bool {
	if rp.all {
		return true
	}
	if rp.tmpl == nil {
		return rp.arn.match(res)
	}
	s, ok := rp.tmpl.expand(ctx)
	if !ok {
		return false
	}
	a, ok := parseARNPattern(s)
	return ok && a.match(res)
}

func (st *statement) matchConditions(ctx *Context) bool {
	for i := range st.conds {
		if !st.conds[i].eval(ctx) {
			return false
		}
	}
	return true
}

// Refusal is AWS's message for a request a policy denies: "User: ARN is
// not authorized to perform: ACTION on resource: RESOURCE because no
// identity-based policy allows the ACTION action" (or "with an explicit
// deny in an identity-based policy"). An empty resource leaves out "on
// resource: …", as AWS does for actions without a resource type.
func Refusal(user string, action Action, resource string, e Effect) string {
	on := ""
	if resource != "" {
		on = " on resource: " + resource
	}
	why := "because no identity-based policy allows the " + action.String() + " action"
	if e == ExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	return "User: " + user + " is not authorized to perform: " + action.String() + on + " " + why
}

// Statements lists the statements of the policy, in order.
func (p *Policy) Statements() []StatementRef {
	if p == nil {
		return nil
	}
	out := make([]StatementRef, len(p.stmts))
	for i, st := range p.stmts {
		out[i] = st.ref
	}
	return out
}
