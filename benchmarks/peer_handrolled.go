package benchmarks

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// handrolled is what a careful user writes in a page instead of taking a
// library, and so the floor for a concurrency-safe one: actions found by
// name on every call in a copy-on-write map, each action's listeners in an
// immutable snapshot behind an atomic pointer. Invoking takes no lock and
// allocates nothing; adding and removing copy under a mutex. It has none of
// the features of actions (errors, panics, ctx, futures, blocking, ...).

func init() {
	addPeer("handrolled", Caps{
		How: "copy-on-write map by name + atomic snapshot of listener slices; lock-free invoke",
	}, func() Peer {
		h := &handrolledPeer{}
		h.byName.Store(&map[string]*hrAction{})
		return h
	})
}

type hrStep struct {
	w     Work
	abort bool
}

type hrChain struct {
	body          Work
	before, after []*hrStep // never modified once published
}

type hrAction struct{ chain atomic.Pointer[hrChain] }

type handrolledPeer struct {
	mu     sync.Mutex // serialises writers
	byName atomic.Pointer[map[string]*hrAction]
}

func (h *handrolledPeer) Define(name string, w Work) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.byName.Load()
	m := make(map[string]*hrAction, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	a := &hrAction{}
	a.chain.Store(&hrChain{body: w})
	m[name] = a
	h.byName.Store(&m)
	return nil
}

// edit publishes a copy of the action's chain changed by f.
func (h *handrolledPeer) edit(name string, f func(c *hrChain) bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := (*h.byName.Load())[name]
	if a == nil {
		return fmt.Errorf("handrolled: no action %q", name)
	}
	c := *a.chain.Load()
	c.before = append([]*hrStep(nil), c.before...)
	c.after = append([]*hrStep(nil), c.after...)
	if !f(&c) {
		return fmt.Errorf("handrolled: listener already removed")
	}
	a.chain.Store(&c)
	return nil
}

func (h *handrolledPeer) Listen(name string, k Kind, w Work) (func() error, error) {
	s := &hrStep{w: w, abort: k == Aborting}
	list := func(c *hrChain) *[]*hrStep {
		if k == After {
			return &c.after
		}
		return &c.before
	}
	err := h.edit(name, func(c *hrChain) bool {
		*list(c) = append(*list(c), s)
		return true
	})
	if err != nil {
		return nil, err
	}
	return func() error {
		return h.edit(name, func(c *hrChain) bool {
			l := list(c)
			for i, x := range *l {
				if x == s {
					*l = append((*l)[:i], (*l)[i+1:]...)
					return true
				}
			}
			return false
		})
	}, nil
}

var errNoAction = fmt.Errorf("handrolled: no such action")

func (h *handrolledPeer) invoke(name string, p *Payload) error {
	a := (*h.byName.Load())[name]
	if a == nil {
		return errNoAction
	}
	c := a.chain.Load()
	for _, s := range c.before {
		s.w(p)
		if s.abort {
			return ErrHalted
		}
	}
	c.body(p)
	for _, s := range c.after {
		s.w(p)
	}
	return nil
}

func (h *handrolledPeer) Invoker(name string) (func(*Payload) error, error) {
	if (*h.byName.Load())[name] == nil {
		return nil, fmt.Errorf("handrolled: no action %q", name)
	}
	// By name on every call, like a library's Invoke(name, payload).
	return func(p *Payload) error { return h.invoke(name, p) }, nil
}
