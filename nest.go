package actions

import (
	"context"
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
	// inner is Context with the nests directly under it skipped: they add
	// nothing to a context but themselves, so the context's methods go
	// straight to inner, in constant time however deep the nesting.
	inner context.Context
	reg   *Registry
	name  string // the action of the invocation whose stages receive it
	depth int
	// frame is the innermost frame a descendant may read (for the observer's
	// ParentID and de-duplication against ancestors): the invocation's own
	// when it is on the heap, else the one its parent's nest carries.
	frame *frame
	child atomic.Pointer[nest] // the frameless nest one level down, made on first use
	// never is true when Context can never be done (Background, TODO and
	// nests over them): cancellation checks are skipped without asking it.
	never bool
}

// newNest returns a nest of r's invocation of name over ctx at depth.
func newNest(ctx context.Context, r *Registry, name string, depth int, f *frame) *nest {
	n := &nest{Context: ctx, inner: ctx, reg: r, name: name, depth: depth, frame: f}
	if under, ok := ctx.(*nest); ok {
		n.inner, n.never = under.inner, under.never
	}
	return n
}

type nestKey struct{}

// Value returns the nest itself for nestKey, else the wrapped context's value.
func (n *nest) Value(key any) any {
	if key == (nestKey{}) {
		return n
	}
	return n.inner.Value(key)
}

func (n *nest) Done() <-chan struct{}                   { return n.inner.Done() }
func (n *nest) Err() error                              { return n.inner.Err() }
func (n *nest) Deadline() (deadline time.Time, ok bool) { return n.inner.Deadline() }

// done reports whether the nest's context is done, without asking it when it
// never can be.
func (n *nest) done() bool { return !n.never && n.Err() != nil }

// parentNest returns the nest ctx carries, nil for a top-level invocation.
func parentNest(ctx context.Context) *nest {
	if n, ok := ctx.(*nest); ok { // a stage's ctx passed on as it is: no Value walk
		return n
	}
	n, _ := ctx.Value(nestKey{}).(*nest)
	return n
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

// topNests holds the shared nests over context.Background and context.TODO
// of one action (see entry.tops), made on first use.
type topNests struct{ background, todo nest }

func (e *entry) tops(r *Registry) *topNests {
	if t := e.top.Load(); t != nil {
		return t
	}
	return e.makeTops(r)
}

func (e *entry) makeTops(r *Registry) *topNests {
	t := &topNests{
		background: nest{Context: context.Background(), inner: context.Background(), reg: r, name: e.name, depth: 1, never: true},
		todo:       nest{Context: context.TODO(), inner: context.TODO(), reg: r, name: e.name, depth: 1, never: true},
	}
	if e.top.CompareAndSwap(nil, t) {
		return t
	}
	return e.top.Load()
}

// frameless returns a nest without frame for r's invocation of name (whose
// entry is e, nil when there is none) over ctx, sharing one where it can: an
// action's top-level nests, and the last child made of a stage's nest.
func (r *Registry) frameless(ctx context.Context, parent *nest, name string, e *entry) *nest {
	switch {
	case parent == nil && e != nil && ctx == context.Background():
		return &e.tops(r).background
	case parent == nil && e != nil && ctx == context.TODO():
		return &e.tops(r).todo
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
// and Start are set when the registry has an observer, which is when the
// library keeps them (an invocation without one costs no ID).
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
