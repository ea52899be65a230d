package benchmarks

import (
	"context"
	"fmt"

	"github.com/go-actions/actions"
)

// actions: github.com/go-actions/actions through its untyped, Flex-style API:
// RegisterAction, AddListener("before"+name | "after"+name), and
// Registry.Call(ctx, name, payload) by name on every invocation. The
// aborting listener calls actions.Abort on every invocation with a reason
// made once, as a listener with a fixed reason is written.

func init() {
	addPeer("actions", Caps{
		How: "Registry.Call(ctx, name, p); listeners via AddListener; abort = return actions.Abort(reason)",
	}, func() Peer { return &actionsPeer{reg: actions.New()} })
}

// errAbortReason is the reason of every aborting listener of the actions
// peers, which return actions.Abort(errAbortReason).
var errAbortReason = fmt.Errorf("benchmarks: not now")

type actionsPeer struct{ reg *actions.Registry }

func (a *actionsPeer) Define(name string, w Work) error {
	_, err := a.reg.RegisterAction(name, func(_ context.Context, p any) (any, error) {
		w(p.(*Payload))
		return nil, nil
	})
	return err
}

func (a *actionsPeer) Listen(name string, k Kind, w Work) (func() error, error) {
	event := "before" + name
	if k == After {
		event = "after" + name
	}
	fn := func(_ context.Context, p any) error {
		w(p.(*Payload))
		return nil
	}
	if k == Aborting {
		fn = func(_ context.Context, p any) error {
			w(p.(*Payload))
			return actions.Abort(errAbortReason)
		}
	}
	return removal(a.reg.AddListener(event, fn)), nil
}

func (a *actionsPeer) Invoker(name string) (func(*Payload) error, error) {
	if !a.reg.Registered(name) {
		return nil, fmt.Errorf("actions: no action %q", name)
	}
	ctx := context.Background()
	return func(p *Payload) error {
		_, err := a.reg.Call(ctx, name, p)
		return err
	}, nil
}

// removal adapts a handle of actions to Listen's removal.
func removal(remove func() bool) func() error {
	return func() error {
		if !remove() {
			return fmt.Errorf("actions: listener already removed")
		}
		return nil
	}
}
