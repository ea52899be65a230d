package natsactions

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-actions/actions"
	"github.com/nats-io/nats.go/jetstream"
)

// Handler handles one event. Returning nil acknowledges it; an error has it
// delivered again after the back-off, until the last delivery (see
// [WithMaxDeliver]); an error matching [ErrMalformed] gives it up at once.
// A panic is recovered into an [*actions.PanicError] and counts as an
// error. ctx is cancelled with [ErrClosed] as its cause when
// [Subscriber.Stop] gives up waiting.
type Handler func(ctx context.Context, ev *Event) error

// Invoke returns a handler that invokes the action name of reg with the
// event as its payload, through [actions.Registry.Call]: the event is
// acknowledged when the invocation succeeds, delivered again when it fails.
func Invoke(reg *actions.Registry, name string) Handler {
	return func(ctx context.Context, ev *Event) error {
		_, err := reg.Call(ctx, name, ev)
		return err
	}
}

// Subscriber runs a handler for every event of a durable consumer of the
// events stream (see "Events" in the package documentation). Delivery is
// at least once: an event is acknowledged after its handler returned nil,
// so a handler may see an event again (after a crash, a lost
// acknowledgement or an ack wait that ran out) and de-duplicates by
// [Event.ID] where that matters. The handler is called for one event at a
// time.
type Subscriber struct {
	o        *options
	h        Handler
	cc       jetstream.ConsumeContext
	stopping atomic.Bool // set by Stop: buffered events are handed back at once

	ctx    context.Context // the handlers': cancelled when Stop gives up waiting
	cancel context.CancelCauseFunc
}

// fetchAhead is how many events the client buffers ahead of the handler.
// It is small because buffered events wait without renewing their ack wait.
const fetchAhead = 8

// Subscribe creates or updates the durable consumer named durable on the
// events stream (creating the stream when it does not exist) and runs h for
// each event, from goroutines of the NATS client, until [Subscriber.Stop].
// Replicas of one service subscribe with one durable name and share its
// events, each handled by one of them; services with distinct names each
// receive every event. A consumer created anew starts at the stream's first
// event; one resumed receives what it missed. It applies [WithCodec],
// [WithErrorHandler], [WithReplicas], [WithStream], [WithActions],
// [WithMaxDeliver], [WithBackOff], [WithAckWait] and [WithDeadLetter]. ctx
// bounds the set-up only.
func Subscribe(ctx context.Context, js jetstream.JetStream, durable string, h Handler, opts ...Option) (*Subscriber, error) {
	if h == nil {
		panic("natsactions: Subscribe: nil handler")
	}
	o := apply(forSubscriber, opts)
	stream, err := eventStream(ctx, js, o)
	if err != nil {
		return nil, err
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       durable,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.ackWait,
		MaxDeliver:    o.maxDeliver,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	for _, a := range o.actions {
		cfg.FilterSubjects = append(cfg.FilterSubjects, subject(o.subjects, a))
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("natsactions: consumer %s: %w", durable, err)
	}
	s := &Subscriber{o: o, h: h}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.cc, err = cons.Consume(s.handle, jetstream.PullMaxMessages(fetchAhead), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		o.errorHandler(context.Background(), fmt.Errorf("natsactions: consumer %s: %w", durable, err))
	}))
	if err != nil {
		s.cancel(nil)
		return nil, fmt.Errorf("natsactions: consumer %s: %w", durable, err)
	}
	return s, nil
}

// handle settles one delivery.
func (s *Subscriber) handle(m jetstream.Msg) {
	if s.stopping.Load() {
		s.settle(m.Nak()) // to another replica now, not after the ack wait
		return
	}
	meta, err := m.Metadata()
	if err != nil {
		s.o.errorHandler(s.ctx, &MessageError{Subject: m.Subject(), Err: malformed("metadata", err)})
		s.settle(m.Term())
		return
	}
	ev, err := decodeEvent(m.Data(), s.o.codec)
	if err != nil {
		s.o.errorHandler(s.ctx, &MessageError{Subject: m.Subject(), Sequence: meta.Sequence.Stream, Err: err})
		s.settle(m.TermWithReason("malformed event"))
		return
	}
	n := int(meta.NumDelivered)
	switch err := s.call(m, ev); {
	case err == nil:
		s.settle(m.Ack())
	case errors.Is(err, ErrMalformed) || n >= s.o.maxDeliver:
		s.deadLetter(ev, n, err)
		s.settle(m.TermWithReason("given up"))
	default:
		s.settle(m.NakWithDelay(s.o.backOff(n)))
	}
}

// call runs the handler, guarded, telling the server it is in progress
// every half ack wait.
func (s *Subscriber) call(m jetstream.Msg, ev *Event) (err error) {
	done, wg := make(chan struct{}), sync.WaitGroup{}
	wg.Go(func() {
		t := time.NewTicker(s.o.ackWait / 2)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s.settle(m.InProgress())
			case <-done:
				return
			}
		}
	})
	defer wg.Wait()
	defer close(done)
	defer func() {
		if v := recover(); v != nil {
			err = &actions.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return s.h(s.ctx, ev)
}

func (s *Subscriber) deadLetter(ev *Event, deliveries int, err error) {
	if s.o.deadLetter != nil {
		s.o.deadLetter(s.ctx, ev, err)
		return
	}
	s.o.errorHandler(s.ctx, &DeadLetterError{Event: ev, Deliveries: deliveries, Err: err})
}

// settle reports the error of an acknowledgement, which the server then
// did not get: the event comes again after the ack wait.
func (s *Subscriber) settle(err error) {
	if err != nil && !s.stopping.Load() {
		s.o.errorHandler(s.ctx, fmt.Errorf("natsactions: acknowledgement: %w", err))
	}
}

// Stop stops receiving: the handler running finishes, events the client
// had fetched ahead are handed back to the server for immediate
// redelivery, and Stop returns once the consumer's subscription is gone.
// If ctx is done first, the handler's context is cancelled with
// [ErrClosed] and Stop still waits for it to return, then returns ctx's
// error. The durable consumer stays on the server: a later Subscribe with
// its name resumes where this one stopped.
func (s *Subscriber) Stop(ctx context.Context) error {
	s.stopping.Store(true)
	s.cc.Drain()
	select {
	case <-s.cc.Closed():
		s.cancel(ErrClosed)
		return nil
	case <-ctx.Done():
		s.cancel(ErrClosed)
		<-s.cc.Closed()
		return ctx.Err()
	}
}
