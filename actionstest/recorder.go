package actionstest

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/go-actions/actions"
)

// Recorder records what happened in a registry made by [New]: the
// invocations, as its observer sees them; the errors handled; and the steps
// the test marks. Get it with [Record].
//
// A Recorder is safe for concurrent use. Recording a step, an invocation's
// begin or end, or an error costs a mutex and an append; reading returns a
// copy.
type Recorder struct {
	mu      sync.Mutex     // guards the fields below
	invs    []Invocation   // in the order they began
	ids     map[uint64]int // an invocation's ID -> its index in invs
	steps   []string       // in the order they ran
	handled []error        // in the order they were handled
	// pending is, per invocation, the last error New's handler received for
	// it, until the invocation ends: the observer's Outcome.AfterErr is the
	// same error then, and is not recorded twice.
	pending map[uint64]error
	allowed bool // AllowHandledErrors was called
}

// Step records that the step name ran: from a replacement, an observer, or
// any code the test wants in the order of steps.
func (r *Recorder) Step(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, name)
}

// Listener returns a listener that records the step name, then runs fn and
// returns what it returns. A nil fn records the step and returns nil.
func (r *Recorder) Listener(name string, fn actions.Listener) actions.Listener {
	return func(ctx context.Context, payload any) error {
		r.Step(name)
		if fn == nil {
			return nil
		}
		return fn(ctx, payload)
	}
}

// Body returns a body that records the step name, then runs fn and returns
// what it returns. A nil fn records the step and returns nil, nil.
func (r *Recorder) Body(name string, fn actions.Body) actions.Body {
	return func(ctx context.Context, payload any) (any, error) {
		r.Step(name)
		if fn == nil {
			return nil, nil
		}
		return fn(ctx, payload)
	}
}

// Steps returns the steps recorded so far, in the order they ran.
func (r *Recorder) Steps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.steps)
}

// Invocations returns the invocations seen so far, in the order they began
// (the order of their IDs), those that have not ended included. An
// invocation's end is recorded before its future completes, so once a Call
// or a Wait has returned, its invocation (and every invocation it waited
// for) is recorded as ended.
func (r *Recorder) Invocations() []Invocation {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.invs)
	slices.SortStableFunc(out, func(a, b Invocation) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// HandledErrors returns the errors that reached the error handler so far,
// in the order they did: after-listener failures (one error per invocation,
// joined when several listeners failed) and observer panics. See "The error
// handler and the observer" in the package documentation for what is
// recorded when the test gave a handler of its own.
func (r *Recorder) HandledErrors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.handled)
}

// AllowHandledErrors declares that the test expects errors to reach the
// error handler: the end of the test no longer fails because of them. The
// test may check them with [Recorder.HandledErrors]. It may be called at any
// time before the test ends.
func (r *Recorder) AllowHandledErrors() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.allowed = true
}

// unexpected returns the message that fails a test whose handled errors
// were not allowed, or "".
func (r *Recorder) unexpected() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.allowed || len(r.handled) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "actionstest: %d unexpected error(s) reached the error handler "+
		"(call Recorder.AllowHandledErrors if the test expects them):", len(r.handled))
	for _, err := range r.handled {
		fmt.Fprintf(&b, "\n\t%v", err)
	}
	return b.String()
}

// handle is New's error handler.
func (r *Recorder) handle(ctx context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handled = append(r.handled, err)
	if inv, ok := actions.InvocationFrom(ctx); ok && inv.ID != 0 {
		if _, seen := r.ids[inv.ID]; seen {
			r.pending[inv.ID] = err
		}
	}
}

// observer is New's observer: it records each invocation in its recorder.
type observer struct{ r *Recorder }

func (o observer) InvocationBegin(ctx context.Context, inv actions.Invocation) context.Context {
	r := o.r
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids[inv.ID] = len(r.invs)
	r.invs = append(r.invs, Invocation{Invocation: inv})
	return ctx
}

func (o observer) InvocationEnd(_ context.Context, inv actions.Invocation, out actions.Outcome) {
	r := o.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if i, ok := r.ids[inv.ID]; ok {
		r.invs[i].Outcome, r.invs[i].Ended = out, true
	}
	if out.AfterErr != nil && !same(r.pending[inv.ID], out.AfterErr) {
		r.handled = append(r.handled, out.AfterErr) // a handler of the test's own received it
	}
	delete(r.pending, inv.ID)
}

// same reports whether a and b are the same error value. Errors of types
// that cannot be compared are never the same.
func same(a, b error) bool {
	return a != nil && reflect.TypeOf(a).Comparable() && a == b
}
