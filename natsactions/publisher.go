package natsactions

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-actions/actions"
	"github.com/nats-io/nats.go/jetstream"
)

// Publisher is an [actions.Observer] that publishes an [Event] for every
// invocation that ran (every status but rejected) to the events stream. Give
// it to a registry with [actions.WithObserver]; it composes with other
// observers.
//
// Publishing never blocks an invocation: InvocationEnd encodes the event
// (the codec runs in the invoking goroutine, so the payload is read before
// the caller gets it back) and puts it in a bounded queue, which one
// goroutine of the publisher's publishes in order, waiting for the server's
// acknowledgement of each. An event that finds the queue full, or the
// publisher closed, or that every attempt failed to publish, is not
// published: it goes to the error handler as a [*PublishError] that holds
// it. Nothing is lost without a word.
//
// A Publisher observes one registry: invocation IDs are unique within a
// registry, and two registries' events would share IDs, so the stream would
// drop the second as a duplicate. A Publisher is safe for concurrent use.
type Publisher struct {
	js      jetstream.JetStream
	o       *options
	id      string // random: event IDs are unique across replicas and restarts
	actions []string

	mu     sync.RWMutex // guards closed; held (read) while sending on queue, so that Close closes it after the last send
	closed bool
	queue  chan *Event

	ctx     context.Context // the worker's: cancelled when Close gives up waiting
	abandon context.CancelFunc
	done    chan struct{} // closed when the worker has ended
}

// NewPublisher returns a publisher to the events stream through js,
// creating the stream if it does not exist, and starts its goroutine, which
// ends on [Publisher.Close]. It applies [WithCodec], [WithErrorHandler],
// [WithReplicas], [WithStream], [WithSource], [WithActions],
// [WithQueueSize] and [WithPublishRetry]. ctx bounds the stream's lookup
// only.
func NewPublisher(ctx context.Context, js jetstream.JetStream, opts ...Option) (*Publisher, error) {
	o := apply(forPublisher, opts)
	if _, err := eventStream(ctx, js, o); err != nil {
		return nil, err
	}
	p := &Publisher{js: js, o: o, id: rand.Text()[:16], actions: o.actions, queue: make(chan *Event, o.queueSize), done: make(chan struct{})}
	p.ctx, p.abandon = context.WithCancel(context.Background())
	go p.run()
	return p, nil
}

// InvocationBegin returns ctx: the publisher has nothing to do at begin.
func (p *Publisher) InvocationBegin(ctx context.Context, inv actions.Invocation) context.Context {
	return ctx
}

// InvocationEnd queues the event of inv, unless it was rejected or its
// action is not one the publisher publishes. It never waits for the server.
func (p *Publisher) InvocationEnd(ctx context.Context, inv actions.Invocation, out actions.Outcome) {
	if !published(out.Status()) || p.actions != nil && !slices.Contains(p.actions, inv.Action) {
		return
	}
	ev := newEvent(p.id+"."+strconv.FormatUint(inv.ID, 10), p.o.source, p.o.codec, inv, out)
	if ev.CodecError != "" {
		p.o.errorHandler(ctx, &PublishError{Event: ev, Err: malformed("parts left out: "+ev.CodecError, nil)})
	}
	if err := p.enqueue(ev); err != nil {
		p.o.errorHandler(ctx, &PublishError{Event: ev, Err: err})
	}
}

// enqueue puts ev in the queue without waiting.
func (p *Publisher) enqueue(ev *Event) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	select {
	case p.queue <- ev:
		return nil
	default:
		return ErrQueueFull
	}
}

// run publishes the queued events until Close closes the queue.
func (p *Publisher) run() {
	defer close(p.done)
	for ev := range p.queue {
		if err := p.Publish(p.ctx, ev); err != nil {
			p.o.errorHandler(context.Background(), &PublishError{Event: ev, Err: err})
		}
	}
}

// Publish publishes ev on the stream now and waits for the server's
// acknowledgement, retrying as [WithPublishRetry] says; an event already
// stored (same ID, within the stream's duplicate window) is acknowledged
// as a duplicate and stored once. It is what the publisher's goroutine
// calls for each queued event, and may be called to publish an event
// again, say one a [*PublishError] returned. Its cost is one round trip to
// the stream's leader per attempt.
func (p *Publisher) Publish(ctx context.Context, ev *Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	subj := subject(p.o.subjects, ev.Action)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, p.o.publishTimeout)
		_, err = p.js.Publish(actx, subj, data, jetstream.WithMsgID(ev.ID), jetstream.WithExpectStream(p.o.stream))
		cancel()
		if err == nil || attempt == p.o.publishAttempts || ctx.Err() != nil {
			return err
		}
		select { // a short pause: the server may be electing a leader
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
}

// Close stops taking events (those of invocations ending later go to the
// error handler with [ErrClosed]) and publishes those queued, waiting until
// the queue is empty or ctx is done. Then the events still queued are not
// published but handed to the error handler, and Close returns ctx's
// error. The publisher's goroutine has ended when Close returns. Close
// should be called after the registry's own Close, so that every
// invocation's event is queued first.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.mu.Unlock()
	select {
	case <-p.done:
		p.abandon()
		return nil
	case <-ctx.Done():
		p.abandon()
		<-p.done
		return ctx.Err()
	}
}
