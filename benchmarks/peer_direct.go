package benchmarks

import "fmt"

// direct is the floor: the call site holds the action's functions in slices
// and calls them. No lookup by name, no lock, no allocation, and so nothing
// may change while it runs.

func init() {
	addPeer("direct", Caps{
		NoChurn: "plain slices read without synchronisation",
		How:     "the call site loops over slices of funcs",
	}, func() Peer { return &directPeer{actions: map[string]*directAction{}} })
}

type directStep struct {
	w     Work
	abort bool
}

type directAction struct {
	body          Work
	before, after []*directStep
}

type directPeer struct {
	actions map[string]*directAction
}

func (d *directPeer) Define(name string, w Work) error {
	d.actions[name] = &directAction{body: w}
	return nil
}

func (d *directPeer) Listen(name string, k Kind, w Work) (func() error, error) {
	a := d.actions[name]
	if a == nil {
		return nil, fmt.Errorf("direct: no action %q", name)
	}
	s := &directStep{w: w, abort: k == Aborting}
	list := &a.before
	if k == After {
		list = &a.after
	}
	*list = append(*list, s)
	return func() error {
		for i, x := range *list {
			if x == s {
				*list = append((*list)[:i:i], (*list)[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("direct: listener already removed")
	}, nil
}

func (d *directPeer) Invoker(name string) (func(*Payload) error, error) {
	a := d.actions[name]
	if a == nil {
		return nil, fmt.Errorf("direct: no action %q", name)
	}
	return func(p *Payload) error {
		for _, s := range a.before {
			s.w(p)
			if s.abort {
				return ErrHalted
			}
		}
		a.body(p)
		for _, s := range a.after {
			s.w(p)
		}
		return nil
	}, nil
}
