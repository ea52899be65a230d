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

// newNest returns a nest of r over ctx at depth.
func newNest(ctx context.Context, r *Registry, depth int, f *frame) *nest {
	n := &nest{Context: ctx, inner: ctx, reg: r, depth: depth, frame: f}
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

// topNests holds a registry's shared nests over context.Background and
// context.TODO, made on first use so that the zero Registry works.
type topNests struct{ background, todo nest }

func (r *Registry) tops() *topNests {
	if t := r.top.Load(); t != nil {
		return t
	}
	return r.makeTops()
}

func (r *Registry) makeTops() *topNests {
	t := &topNests{
		background: nest{Context: context.Background(), inner: context.Background(), reg: r, depth: 1, never: true},
		todo:       nest{Context: context.TODO(), inner: context.TODO(), reg: r, depth: 1, never: true},
	}
	if r.top.CompareAndSwap(nil, t) {
		return t
	}
	return r.top.Load()
}

// frameless returns a nest without frame of r over ctx, sharing one where it
// can.
func (r *Registry) frameless(ctx context.Context, parent *nest) *nest {
	switch {
	case parent == nil && ctx == context.Background():
		return &r.tops().background
	case parent == nil && ctx == context.TODO():
		return &r.tops().todo
	case parent == nil:
		return newNest(ctx, r, 1, nil)
	case ctx == context.Context(parent) && parent.reg == r:
		if c := parent.child.Load(); c != nil {
			return c
		}
		c := newNest(parent, r, parent.depth+1, parent.frame)
		if parent.child.CompareAndSwap(nil, c) {
			return c
		}
		return parent.child.Load() // made by a concurrent invocation: the same
	}
	return newNest(ctx, r, parent.depth+1, parent.frame)
}
