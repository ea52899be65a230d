package benchmarks

import (
	"fmt"
	"sync"

	"github.com/pocketbase/pocketbase/tools/hook"
)

// pocketbase: github.com/pocketbase/pocketbase/tools/hook, one
// hook.Hook[*pbEvent] per action, used as PocketBase uses its own hooks:
// an invocation is Trigger(&pbEvent{...}, body), the body being the one-off
// last handler as PocketBase passes its default action; a before-listener
// does its work and returns e.Next(); an after-listener returns early on
// e.Next()'s error, else does its work after it (middleware style, so the
// after-listeners unwind in reverse order); an aborting listener returns an
// error without calling e.Next(). Removal is Unbind of the id BindFunc gave.

func init() {
	addPeer("pocketbase", Caps{
		AfterReversed: true,
		How:           "Hook[*E].Trigger(&E{p}, body); before = work, e.Next(); after = e.Next(), work; abort = return err",
	}, func() Peer { return &pbPeer{hooks: map[string]*pbAction{}} })
}

type pbEvent struct {
	hook.Event
	p *Payload
}

type pbAction struct {
	hook hook.Hook[*pbEvent]
	body func(*pbEvent) error
}

type pbPeer struct {
	mu    sync.Mutex // guards hooks
	hooks map[string]*pbAction
}

func (b *pbPeer) action(name string) (*pbAction, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a := b.hooks[name]; a != nil {
		return a, nil
	}
	return nil, fmt.Errorf("pocketbase: no action %q", name)
}

func (b *pbPeer) Define(name string, w Work) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hooks[name] = &pbAction{body: func(e *pbEvent) error {
		w(e.p)
		return nil
	}}
	return nil
}

func (b *pbPeer) Listen(name string, k Kind, w Work) (func() error, error) {
	a, err := b.action(name)
	if err != nil {
		return nil, err
	}
	var fn func(*pbEvent) error
	switch k {
	case Before:
		fn = func(e *pbEvent) error {
			w(e.p)
			return e.Next()
		}
	case After:
		fn = func(e *pbEvent) error {
			if err := e.Next(); err != nil {
				return err
			}
			w(e.p)
			return nil
		}
	case Aborting:
		fn = func(e *pbEvent) error {
			w(e.p)
			return ErrHalted
		}
	}
	id := a.hook.BindFunc(fn)
	return func() error {
		n := a.hook.Length()
		a.hook.Unbind(id)
		if a.hook.Length() == n {
			return fmt.Errorf("pocketbase: listener already removed")
		}
		return nil
	}, nil
}

func (b *pbPeer) Invoker(name string) (func(*Payload) error, error) {
	a, err := b.action(name)
	if err != nil {
		return nil, err
	}
	return func(p *Payload) error {
		return a.hook.Trigger(&pbEvent{p: p}, a.body)
	}, nil
}
