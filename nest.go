package actions

import (
	"context"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// nest is the context.Context every stage of an invocation receives, and the
// observer with it: the caller's context, plus the registry and depth of the
// invocation, so that an invocation made with it is nested one level deeper
// and a Close made with it is known to come from inside (see
// [Registry.Close]).
//
// A nest is immutable once made (child aside, a cache), so that one nest can
// serve every invocation of a registry with the same caller context and
// depth: the top-level nests of context.Background and context.TODO, and the
// child of a nest, are made once, which keeps a synchronous call free of
// allocation.
type nest struct {
	context.Context
	// inner is Context with the nests of the same registry directly under it
	// skipped: they add nothing to a context but themselves, so the
	// context's methods go straight to inner, in constant time however deep
	// the nesting.
	inner context.Context
	reg   *Registry
	name  string // the action of the invocation whose stages receive it
	depth int
	// frame is the innermost frame a descendant may read (for the observer's
	// ParentID and de-duplication against ancestors): the invocation's own
	// when it is on the heap, else the one its parent's nest carries.
	frame *frame
	child atomic.Pointer[nest] // the frameless nest one level down, made on first use
	// never is true when inner can never be done (Background, TODO):
	// cancellation checks ask only whether the registry is stopping.
	never bool
	// stoppable is inner merged with the registry's stop (see Registry.Stop),
	// made the first time it is needed.
	stoppable atomic.Pointer[stoppable]
}

// newNest returns a nest of r's invocation of name over ctx at depth.
func newNest(ctx context.Context, r *Registry, name string, depth int, f *frame) *nest {
	n := &nest{Context: ctx, inner: ctx, reg: r, name: name, depth: depth, frame: f}
	if under, ok := ctx.(*nest); ok && under.reg == r {
		n.inner, n.never = under.inner, under.never
	} else {
		n.never = neverDone(ctx)
	}
	return n
}

type nestKey struct{}

// A nest's context is inner's, cancelled also when its registry stops. Until
// then, Err and Value ask inner alone; Done must be merged at once, since a
// stage keeps the channel it got (see merged).

// Value returns the nest itself for nestKey, else the context's value.
func (n *nest) Value(key any) any {
	if key == (nestKey{}) {
		return n
	}
	if n.never || n.stoppable.Load() != nil || n.reg.stopping.Load() {
		// Over Background or TODO, the stop's context answers: its
		// cancelCtx is what a context derived from this one registers
		// with (no goroutine of its own), and after the stop
		// context.Cause finds the stop's cause.
		return n.merged().Value(key)
	}
	return n.inner.Value(key)
}

func (n *nest) Done() <-chan struct{} { return n.merged().Done() }

func (n *nest) Err() error {
	if n.reg.stopping.Load() {
		return n.merged().Err()
	}
	return n.inner.Err()
}

func (n *nest) Deadline() (deadline time.Time, ok bool) { return n.inner.Deadline() }

// done reports whether the nest's context is done, without asking inner when
// it never can be.
func (n *nest) done() bool {
	if n.never && !n.reg.stopping.Load() {
		return false // the common case, inlined
	}
	return n.doneSlow()
}

func (n *nest) doneSlow() bool {
	if n.reg.stopping.Load() {
		return n.Err() != nil
	}
	return n.inner.Err() != nil
}

// merged returns inner merged with the registry's stop: for a nest over
// Background or TODO, the stop's own context (no cost per invocation); else
// a context made on first use, which costs two context.AfterFunc
// registrations (a few hundred nanoseconds), ended when the nest is
// collected.
func (n *nest) merged() context.Context {
	if n.never {
		return n.reg.stopContext()
	}
	if s := n.stoppable.Load(); s != nil {
		return s
	}
	s := &stoppable{inner: n.inner, stop: n.reg.stopContext(), done: make(chan struct{})}
	if !n.stoppable.CompareAndSwap(nil, s) {
		return n.stoppable.Load()
	}
	runtime.AddCleanup(n, unwatch, s.watch())
	// AfterFunc calls back in a goroutine of its own: a merge made after the
	// stop, or after inner ended, ends now, so that Err and Done agree with
	// Stop having returned.
	if err := s.inner.Err(); err != nil {
		s.end(err, false)
	} else if s.stop.Err() != nil {
		s.end(context.Canceled, true)
	}
	return s
}

// stoppable is a nest's merged context: done when inner is, or when the
// registry stops. It is a context of its own rather than a
// context.WithCancelCause of inner, so that ending it when its nest is
// collected closes no channel (which a synctest bubble forbids from outside
// it) and leaves nothing registered on inner.
type stoppable struct {
	inner, stop context.Context
	done        chan struct{}

	mu     sync.Mutex // guards err and byStop
	err    error
	byStop bool // the registry's stop ended it: its cause is the stop's
}

// watch registers the merge on inner and on the stop, and returns their
// deregistrations.
func (s *stoppable) watch() [2]func() bool {
	return [2]func() bool{
		context.AfterFunc(s.inner, func() { s.end(s.inner.Err(), false) }),
		context.AfterFunc(s.stop, func() { s.end(context.Canceled, true) }),
	}
}

func unwatch(stops [2]func() bool) {
	stops[0]()
	stops[1]()
}

func (s *stoppable) end(err error, byStop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err, s.byStop = err, byStop
		close(s.done)
	}
}

func (s *stoppable) Deadline() (time.Time, bool) { return s.inner.Deadline() }
func (s *stoppable) Done() <-chan struct{}       { return s.done }

func (s *stoppable) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Value answers context.Cause's question with the stop's cause once the stop
// ended the context: the stop's context has no other value.
func (s *stoppable) Value(key any) any {
	s.mu.Lock()
	byStop := s.byStop
	s.mu.Unlock()
	if byStop {
		if v := s.stop.Value(key); v != nil {
			return v
		}
	}
	return s.inner.Value(key)
}

// parentNest returns the nest ctx carries, nil for a top-level invocation.
func parentNest(ctx context.Context) *nest {
	if n, ok := ctx.(*nest); ok { // a stage's ctx passed on as it is: no Value walk
		return n
	}
	if neverDone(ctx) {
		return nil // nothing under Background or TODO
	}
	n, _ := ctx.Value(nestKey{}).(*nest)
	return n
}

// backgroundType and todoType are the types of context.Background() and
// context.TODO(): types without fields, so that a ctx of one of them is that
// context. Comparing types costs less than comparing the interfaces.
var backgroundType, todoType = reflect.TypeOf(context.Background()), reflect.TypeOf(context.TODO())

// neverDone reports whether ctx is context.Background() or context.TODO().
func neverDone(ctx context.Context) bool {
	t := reflect.TypeOf(ctx)
	return t == backgroundType || t == todoType
}

// inside reports whether ctx is, or derives from, the context of a stage of
// one of r's invocations.
func (r *Registry) inside(ctx context.Context) bool {
	for n := parentNest(ctx); n != nil; n = parentNest(n.Context) {
		if n.reg == r {
			return true
		}
	}
	return false
}

// topNest returns a shared nest over ctx, context.Background() or
// context.TODO(), for top-level invocations of name.
func topNest(ctx context.Context, r *Registry, name string) nest {
	return nest{Context: ctx, inner: ctx, reg: r, name: name, depth: 1, never: true}
}

// frameless returns a nest without frame for r's invocation of name (whose
// entry is e, nil when there is none) over ctx, sharing one where it can: an
// action's top-level nests, and the last child made of a stage's nest.
func (r *Registry) frameless(ctx context.Context, parent *nest, name string, e *entry) *nest {
	t := reflect.TypeOf(ctx)
	switch {
	case parent == nil && e != nil && t == backgroundType:
		return &e.background
	case parent == nil && e != nil && t == todoType:
		return &e.todo
	case parent == nil:
		return newNest(ctx, r, name, 1, nil)
	case ctx == context.Context(parent):
		if c := parent.child.Load(); c != nil && c.reg == r && c.name == name {
			return c
		}
		c := newNest(parent, r, name, parent.depth+1, parent.frame)
		parent.child.Store(c) // the next invocation of the same action from this stage shares it
		return c
	}
	return newNest(ctx, r, name, parent.depth+1, parent.frame)
}

// InvocationFrom returns the invocation whose stage, observer or error
// handler received ctx (or a context derived from it), and false when ctx
// comes from none. Action and Depth are always set; ID, ParentID, Payload
// and Start are set when the registry had an observer as the invocation
// began, which is when the library keeps them (an invocation without one
// costs no ID).
func InvocationFrom(ctx context.Context) (Invocation, bool) {
	n := parentNest(ctx)
	if n == nil {
		return Invocation{}, false
	}
	f := n.frame
	if f != nil && f.reg == n.reg && f.depth == n.depth && f.obs != nil {
		return f.obs.info, true // the invocation's own frame
	}
	inv := Invocation{Action: n.name, Depth: n.depth}
	if f != nil && f.reg == n.reg && f.depth == n.depth-1 && f.obs != nil {
		inv.ParentID = f.obs.info.ID
	}
	return inv, true
}
