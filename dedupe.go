package actions

import "context"

// DedupMode says what an invocation does when another with the same key is
// in flight (see [Deduplicate]).
type DedupMode uint8

const (
	// RejectPending fails the invocation with [ErrPending], as Flex does
	// ("Action is pending").
	RejectPending DedupMode = iota
	// SharePending makes the invocation wait for the one in flight and
	// complete with its result and error, as [golang.org/x/sync/singleflight]
	// does. A sharing invocation runs no stage of its own and is not counted
	// by [Registry.InFlight]. If its own ctx is done before the outcome is
	// there, it stops waiting and fails with [context.Cause] of ctx; the
	// invocation it shared goes on. If the invocation it shares ends
	// because that invocation's own ctx was done (a client that went away),
	// its sharers do not inherit the cancellation: one of those still
	// waiting runs the invocation in its place, and the others share that
	// one. There is still at most one body per key at a time.
	SharePending
)

// Deduplicate makes the action de-duplicate its invocations by key, from its
// registration on (see [Registry.DeduplicateAction] to attach it at run
// time instead): key
// receives the payload as the caller passed it (before any payload update)
// and, while an invocation with key K is in flight, another with key K is
// rejected or shares its outcome, as mode says. A nested invocation whose key
// equals one of its ancestors' fails with ErrPending in either mode, since it
// would otherwise wait for itself. A panic in key fails the invocation. A nil
// key panics.
func Deduplicate(key func(payload any) string, mode DedupMode) ActionOption {
	if key == nil {
		setupPanic("Deduplicate: nil key function")
	}
	return dedupeBy(func(payload any) (string, error) { return key(payload), nil }, mode)
}

// dedupeBy is Deduplicate with a key function that may reject the payload.
func dedupeBy(key func(payload any) (string, error), mode DedupMode) ActionOption {
	return func(a *action) { a.dedupe = &dedupeRule{key: key, share: mode == SharePending} }
}

// dedupeRule is how an action de-duplicates: given at its registration
// (action.dedupe) or attached to its name at run time (snapshot.dedupes).
type dedupeRule struct {
	key   func(payload any) (string, error)
	share bool    // share the in-flight outcome instead of failing with ErrPending
	owner *Plugin // the plugin that attached it, if any
}

// DeduplicateAction makes the action name de-duplicate its invocations by
// key as [Deduplicate] does, from now on, whether or not the action is
// registered, and whoever registers it: an idempotency plugin attaches it to
// an action it does not own. It returns a function that removes exactly this
// rule, reporting whether it did.
//
// The table of keys in flight belongs to the name, not to a registration:
// invocations in flight keep excluding their keys when the action is
// unregistered and registered again, or when its rule changes. The rule
// applies to invocations that begin after DeduplicateAction returned (one
// already past its step 4 claimed no key). The most recent rule attached
// and not removed applies; when none is left, the action's own
// [Deduplicate] option, if any.
//
// An empty name or a nil key panics: those are programmer errors.
func (r *Registry) DeduplicateAction(name string, key func(payload any) string, mode DedupMode) (remove func() bool) {
	if key == nil {
		setupPanic("DeduplicateAction(%q): nil key function", name)
	}
	return r.attachRule(name, &dedupeRule{key: func(payload any) (string, error) { return key(payload), nil }, share: mode == SharePending})
}

// attachRule attaches d to name, as DeduplicateAction.
func (r *Registry) attachRule(name string, d *dedupeRule) (remove func() bool) {
	if name == "" {
		setupPanic("DeduplicateAction: empty action name")
	}
	return attach(r, name, func(s *snapshot) *[]*dedupeRule { return &s.dedupes }, d)
}

// rule returns the de-duplication rule that applies to the snapshot's
// invocations, nil if none.
func (s *snapshot) rule() *dedupeRule {
	if n := len(s.dedupes); n > 0 {
		return s.dedupes[n-1]
	}
	if s.act != nil {
		return s.act.dedupe
	}
	return nil
}

// flight is an invocation of a de-duplicating action, as others with the
// same key see it while it is in flight.
type flight struct {
	done chan struct{}
	key  string
	// val, err and abandoned are written once before done is closed, and
	// read only after. abandoned: the leader ended because its own ctx was
	// done, an outcome its sharers must not inherit.
	val       any
	err       error
	abandoned bool
	// next is the flight that took over from an abandoned one: its sharers
	// share next, whoever leads it. Guarded by entry.dmu.
	next *flight
}

// dedupe is step 4 (see "Blocking, de-duplication, in flight" in the package
// documentation). It reports whether the invocation ends here (shared or
// rejected) with res and err; if not, the invocation goes on as the leader
// of a new flight for its key.
//
// A sharer whose leader was abandoned tries to lead in its place: one of
// them does, and the others share its flight.
func (f *frame) dedupe(d *dedupeRule, payload any) (ends bool, res any, err error) {
	key, err := f.callKey(d.key, payload)
	if err != nil {
		if _, ok := err.(*PayloadTypeError); ok {
			return true, nil, &Error{Action: f.name, Kind: ErrPayloadType, Stage: StageKey, Err: err}
		}
		return true, nil, fail(f.name, StageKey, "", err)
	}
	var abandoned *flight
	for {
		fl, err := f.claim(d, key, abandoned)
		if err != nil {
			return true, nil, err
		}
		if fl == nil {
			return false, nil, nil // the leader
		}
		select {
		case <-fl.done:
			if !fl.abandoned {
				f.shared = true
				return true, fl.val, fl.err
			}
			abandoned = fl
		case <-f.ctx.Done():
			return true, nil, stopped(f.name, StageNone, context.Cause(f.ctx))
		}
	}
}

// claim makes the invocation the leader of key's flight, or returns the
// flight in flight to share, or ErrPending. After an abandoned flight, the
// flight to share is its successor: the first of its sharers to claim leads
// it (or finds another invocation's flight for the key and makes that the
// successor), so that every sharer shares one outcome, even one that is
// already complete.
func (f *frame) claim(d *dedupeRule, key string, abandoned *flight) (*flight, error) {
	e := f.ent
	e.dmu.Lock()
	defer e.dmu.Unlock()
	fl := e.pending[key]
	if abandoned != nil {
		if abandoned.next == nil {
			abandoned.next = fl // nil: this invocation leads it, below
		}
		fl = abandoned.next
	}
	if fl != nil {
		// An ancestor still in flight with the same key would wait for its
		// descendant: reject, whatever the mode.
		if d.share && !f.ledByAncestor(fl) {
			return fl, nil
		}
		return nil, &Error{Action: f.name, Kind: ErrPending, Plugin: d.owner.nameOf()}
	}
	if e.pending == nil {
		e.pending = make(map[string]*flight)
	}
	f.lead = &flight{done: make(chan struct{}), key: key}
	e.pending[key] = f.lead
	if abandoned != nil {
		abandoned.next = f.lead
	}
	return nil, nil
}

// ledByAncestor reports whether fl is led by one of the invocation's
// ancestors. Only a flight in e.pending is asked about: an ancestor that has
// completed leads none.
func (f *frame) ledByAncestor(fl *flight) bool {
	for p := f.parent; p != nil; p = p.parent {
		if p.lead == fl {
			return true
		}
	}
	return false
}

// finishFlight frees the key and hands the outcome to the sharers.
func (f *frame) finishFlight(val any, err error) {
	e := f.ent
	e.dmu.Lock()
	delete(e.pending, f.lead.key)
	e.dmu.Unlock()
	f.lead.val, f.lead.err = val, err
	f.lead.abandoned = StatusOf(err) == StatusCancelled && f.ctx.done()
	close(f.lead.done)
}

func (f *frame) callKey(key func(any) (string, error), payload any) (k string, err error) {
	f.enter(StageKey)
	var g guard
	defer g.recover(&err)
	k, err = key(payload)
	g.returned = true
	return k, err
}
