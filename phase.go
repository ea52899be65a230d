package actions

import (
	"context"
	"errors"
	"sync"
)

// concurrentPhase starts every listener at once, the last one in this
// goroutine, and waits for all, however the last one leaves: after a Goexit
// in it, the phase's outcome is left in f.err or f.afterErrs for the settle.
// In the before phase the first abort or failure cancels the others'
// context with itself as the cause; an abort wins over failures, which stay
// reachable through the joined error.
func (f *frame) concurrentPhase(list []*listener, payload any, after bool) (err error) {
	p := &concurrent{reg: f.reg, name: f.name, list: list, payload: payload, after: after, errs: make([]error, len(list))}
	p.parent = f.ctx
	p.ctx, p.cancel = context.WithCancelCause(f.ctx)
	defer p.cancel(nil)
	returned := false
	defer func() {
		switch {
		case after:
			f.afterErrs = p.appendErrs(f.afterErrs)
		case !returned: // runtime.Goexit in the last listener
			f.err = p.result()
		}
	}()
	defer p.wg.Wait()
	for i := range len(list) - 1 {
		p.wg.Go(func() { p.run(i) })
	}
	p.run(len(list) - 1)
	p.wg.Wait()
	returned = true
	if after {
		return nil
	}
	return p.result()
}

// appendErrs appends the phase's errors to errs.
func (p *concurrent) appendErrs(errs []error) []error {
	for _, err := range p.errs {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// concurrent is one concurrent phase in progress. It holds no frame, which
// would then escape to the heap with it.
type concurrent struct {
	reg     *Registry
	name    string
	parent  *nest // the invocation's context
	list    []*listener
	payload any
	after   bool
	ctx     context.Context // the phase's: cancelled by the first abort or failure
	cancel  context.CancelCauseFunc
	wg      sync.WaitGroup
	errs    []error // one per listener, each written by its own run

	mu    sync.Mutex
	cause error // the first abort or failure of the before phase, guarded by mu
}

// run runs listener i and records how it left, even by runtime.Goexit.
func (p *concurrent) run(i int) {
	l := p.list[i]
	if l.once && !claim(p.reg, p.name, l, p.after) {
		return
	}
	var err error
	returned := false
	defer func() {
		if !returned {
			err = ErrGoexit
		}
		p.record(i, err)
	}()
	err = p.call(l)
	returned = true
}

// call runs one listener, guarded. A Goexit in it is recorded by run, and
// for the last listener, which runs in the invoking goroutine, by the phase.
func (p *concurrent) call(l *listener) (err error) {
	var g guard
	defer g.recover(&err)
	err = l.fn(p.ctx, p.payload)
	g.returned = true
	return err
}

// record sets listener i's error and, for the first failure of the before
// phase, cancels the others.
func (p *concurrent) record(i int, err error) {
	name, l := p.name, p.list[i]
	switch {
	case err == nil, !p.after && p.stoppedEarly(err):
	case p.after:
		p.errs[i] = listenerError(p.parent, name, StageAfter, l, err)
	default:
		e := beforeError(p.parent, name, l, err)
		p.errs[i] = e
		p.mu.Lock()
		if p.cause == nil {
			p.cause = e
		}
		p.mu.Unlock()
		p.cancel(e) // a no-op after the first
	}
}

// stoppedEarly reports whether a before-listener's error only says that
// another listener stopped the phase, as its cancelled context invited it to:
// the phase's error is that other listener's, not this one's.
func (p *concurrent) stoppedEarly(err error) bool {
	cause := context.Cause(p.ctx)
	if cause == nil || p.parent.Err() != nil {
		return false
	}
	return matches(err, cause) || matches(err, context.Canceled)
}

// result returns the before phase's error: the abort that cancelled the
// phase or, failing that, the first abort, or else the failure that
// cancelled it, joined with every other error of the phase.
func (p *concurrent) result() error {
	p.mu.Lock()
	cause := p.cause
	p.mu.Unlock()
	if cause == nil {
		return nil
	}
	primary := cause
	if !isAbort(cause) {
		for _, err := range p.errs {
			if isAbort(err) {
				primary = err
				break
			}
		}
	}
	all := []error{primary}
	for _, err := range p.errs {
		if err != nil && err != primary {
			all = append(all, err)
		}
	}
	if len(all) == 1 {
		return primary
	}
	return errors.Join(all...)
}

// beforeError turns a before-listener's error into the invocation's: an
// abort when it matches ErrAborted (see matches), else a cancellation or a
// failure (see stageError).
func beforeError(ctx *nest, name string, l *listener, err error) *Error {
	if a, ok := err.(*abortError); ok { // Abort's own error: no walk
		return &Error{Action: name, Kind: ErrAborted, Stage: StageBefore, Listener: l.name, Plugin: l.owner.nameOf(), Err: a.reason}
	}
	if matches(err, ErrAborted) {
		return &Error{Action: name, Kind: ErrAborted, Stage: StageBefore, Listener: l.name, Plugin: l.owner.nameOf(), Err: err}
	}
	return listenerError(ctx, name, StageBefore, l, err)
}

// listenerError is stageError for the listener l.
func listenerError(ctx *nest, name string, stage Stage, l *listener, err error) *Error {
	e := stageError(ctx, name, stage, l.name, err)
	e.Plugin = l.owner.nameOf()
	return e
}

// claim takes a once-listener for this invocation, if no other took it, and
// removes it from the registry.
func claim(reg *Registry, name string, l *listener, after bool) bool {
	if !l.fired.CompareAndSwap(false, true) {
		return false
	}
	reg.removeListener(name, after, l)
	return true
}

// pinned returns list, a part of the snapshot s, without the plugins'
// registrations installed after the snapshot of gen gen, the one an
// invocation began with, so that a plugin installed in the meantime is seen
// by none of the invocation's phases, and one removed is seen by none that
// starts after its removal (see "Plugins" in the package documentation).
// Registrations made outside plugins have gen 0: a phase runs them if they
// are registered when it starts. It costs one comparison unless the name was
// written to since the invocation began, and allocates only if a plugin was
// installed since.
func pinned[T interface{ addedIn() uint64 }](list []T, s *snapshot, gen uint64) []T {
	if s.gen == gen {
		return list
	}
	return addedBy(list, gen)
}

// addedBy returns list without what was added after gen.
func addedBy[T interface{ addedIn() uint64 }](list []T, gen uint64) []T {
	return keep(list, func(x T) bool { return x.addedIn() <= gen })
}
