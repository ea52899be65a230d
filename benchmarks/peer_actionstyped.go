package benchmarks

import (
	"context"
	"fmt"

	"github.com/go-actions/actions"
)

// actions-typed: the same library through its typed handles,
// actions.Typed[*Payload, struct{}]: Register, Before, After, and
// Action.Call(ctx, p). The handle is made once per call site, as a user
// keeps it in a variable.

func init() {
	addPeer("actions-typed", Caps{
		How: "Typed[*Payload, struct{}](reg, name).Call(ctx, p); listeners via Before/After",
	}, func() Peer { return &typedPeer{reg: actions.New()} })
}

type typedPeer struct{ reg *actions.Registry }

func (t *typedPeer) handle(name string) actions.Action[*Payload, struct{}] {
	return actions.Typed[*Payload, struct{}](t.reg, name)
}

func (t *typedPeer) Define(name string, w Work) error {
	_, err := t.handle(name).Register(func(_ context.Context, p *Payload) (struct{}, error) {
		w(p)
		return struct{}{}, nil
	})
	return err
}

func (t *typedPeer) Listen(name string, k Kind, w Work) (func() error, error) {
	h := t.handle(name)
	switch k {
	case After:
		return removal(h.After(func(_ context.Context, p *Payload) error {
			w(p)
			return nil
		})), nil
	case Aborting:
		return removal(h.Before(func(_ context.Context, p *Payload) error {
			w(p)
			return actions.Abort(errAbortReason)
		})), nil
	}
	return removal(h.Before(func(_ context.Context, p *Payload) error {
		w(p)
		return nil
	})), nil
}

func (t *typedPeer) Invoker(name string) (func(*Payload) error, error) {
	if !t.reg.Registered(name) {
		return nil, fmt.Errorf("actions-typed: no action %q", name)
	}
	h, ctx := t.handle(name), context.Background()
	return func(p *Payload) error {
		_, err := h.Call(ctx, p)
		return err
	}, nil
}
