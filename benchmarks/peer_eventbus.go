package benchmarks

import (
	"fmt"
	"sync"

	EventBus "github.com/asaskevich/EventBus"
)

// eventbus: github.com/asaskevich/EventBus, synchronous Subscribe/Publish on
// the topics "before.<name>" and "after.<name>"; an invocation is
// Publish(before), body, Publish(after). Its handlers return nothing, so an
// aborting listener sets Payload.Halted, which the invoker checks after the
// before topic: EventBus cannot stop the handlers after it. Unsubscribe
// finds a handler by its function's code pointer, so handlers that may be
// removed must be distinct functions (the Work funcs the scenarios pass are);
// the adapter subscribes them as they are, EventBus calling them through
// reflection. Publish holds the bus-wide lock while handlers run.

func init() {
	addPeer("eventbus", Caps{
		AbortRunsRest: true,
		How:           "Publish(\"before.X\", p); body(p); Publish(\"after.X\", p); abort = flag in the payload",
	}, func() Peer { return &ebPeer{bus: EventBus.New(), bodies: map[string]Work{}} })
}

type ebPeer struct {
	bus    EventBus.Bus
	mu     sync.Mutex // guards bodies
	bodies map[string]Work
}

func (e *ebPeer) Define(name string, w Work) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.bodies[name] = w
	return nil
}

func (e *ebPeer) Listen(name string, k Kind, w Work) (func() error, error) {
	topic, fn := "before."+name, any(w)
	switch k {
	case After:
		topic = "after." + name
	case Aborting:
		fn = func(p *Payload) {
			w(p)
			p.Halted = true
		}
	}
	if err := e.bus.Subscribe(topic, fn); err != nil {
		return nil, err
	}
	return func() error { return e.bus.Unsubscribe(topic, fn) }, nil
}

func (e *ebPeer) Invoker(name string) (func(*Payload) error, error) {
	e.mu.Lock()
	body := e.bodies[name]
	e.mu.Unlock()
	if body == nil {
		return nil, fmt.Errorf("eventbus: no action %q", name)
	}
	before, after, bus := "before."+name, "after."+name, e.bus
	return func(p *Payload) error {
		p.Halted = false
		bus.Publish(before, p)
		if p.Halted {
			return ErrHalted
		}
		body(p)
		bus.Publish(after, p)
		return nil
	}, nil
}
