package natsactions_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seen records the events a handler received, by ID.
type seen struct {
	mu    sync.Mutex
	count map[string]int
	dups  int
}

func (s *seen) handle(_ context.Context, ev *natsactions.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count[ev.ID]++; s.count[ev.ID] > 1 {
		s.dups++
	}
	return nil
}

func (s *seen) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.count)
}

func TestSubscriberReceivesWhatItMissed(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 30*time.Second)
	url := natstest.Server(t).ClientURL()
	jsA, _ := jetStream(t, url)
	jsB, _ := jetStream(t, url) // the subscribing service, on a connection of its own
	pub, err := natsactions.NewPublisher(ctx, jsA)
	require.NoError(t, err)
	reg := actions.New(actions.WithObserver(pub))
	_, err = reg.RegisterAction("Accept", func(ctx context.Context, p any) (any, error) { return p, nil })
	require.NoError(t, err)
	invoke := func(from, to int) {
		for i := from; i < to; i++ {
			_, err := reg.Call(ctx, "Accept", i)
			require.NoError(t, err)
		}
	}

	got := &seen{count: map[string]int{}}
	sub, err := natsactions.Subscribe(ctx, jsB, "billing", got.handle)
	require.NoError(t, err)
	invoke(0, 5)
	eventually(t, ctx, "the first 5 events", func() bool { return got.distinct() == 5 })
	require.NoError(t, sub.Stop(ctx))

	invoke(5, 25) // while the subscriber is down
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, 5, got.distinct(), "a stopped subscriber receives nothing")

	sub, err = natsactions.Subscribe(ctx, jsB, "billing", got.handle)
	require.NoError(t, err)
	eventually(t, ctx, "all 25 events", func() bool { return got.distinct() == 25 })
	time.Sleep(100 * time.Millisecond) // room for a duplicate to show
	require.NoError(t, sub.Stop(ctx))
	require.NoError(t, reg.Close(ctx))
	require.NoError(t, pub.Close(ctx))

	// Every invocation's event, by the IDs the stream holds, was handled.
	for _, ev := range readAll(t, ctx, jsA, 25) {
		assert.Equal(t, 1, got.count[ev.ID], "event %s", ev.ID)
	}
	t.Logf("25 events, %d duplicate deliveries", got.dups)
}

func TestSubscriberRedeliversWithBackOffThenGivesUp(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 30*time.Second)
	js, _ := newJetStream(t)
	pub, err := natsactions.NewPublisher(ctx, js)
	require.NoError(t, err)
	defer pub.Close(ctx)

	var mu sync.Mutex
	deliveries := map[string][]time.Time{} // by payload
	dead := make(chan *natsactions.DeadLetterError, 4)
	handler := func(ctx context.Context, ev *natsactions.Event) error {
		var p string
		if err := ev.DecodePayload(&p); err != nil {
			return err
		}
		mu.Lock()
		deliveries[p] = append(deliveries[p], time.Now())
		n := len(deliveries[p])
		mu.Unlock()
		switch {
		case p == "always fails":
			return fmt.Errorf("attempt %d failed", n)
		case p == "fails once" && n == 1:
			return errors.New("transient")
		case p == "panics":
			panic("handler bug")
		}
		return nil
	}
	const backOff = 300 * time.Millisecond
	sub, err := natsactions.Subscribe(ctx, js, "svc", handler,
		natsactions.WithMaxDeliver(3),
		natsactions.WithBackOff(func(n int) time.Duration { return time.Duration(n) * backOff }),
		natsactions.WithDeadLetter(func(ctx context.Context, ev *natsactions.Event, err error) {
			dead <- &natsactions.DeadLetterError{Event: ev, Err: err}
		}))
	require.NoError(t, err)
	defer sub.Stop(ctx)

	for _, p := range []string{"always fails", "fails once", "panics"} {
		require.NoError(t, pub.Publish(ctx, &natsactions.Event{ID: p, Action: "Accept", Status: "ok", Payload: []byte(`"` + p + `"`)}))
	}
	var given []string
	for range 2 {
		select {
		case d := <-dead:
			given = append(given, d.Event.ID)
			if d.Event.ID == "always fails" {
				assert.EqualError(t, d.Err, "attempt 3 failed")
			} else {
				var pe *actions.PanicError
				assert.ErrorAs(t, d.Err, &pe)
			}
		case <-ctx.Done():
			t.Fatal("no dead letter")
		}
	}
	assert.ElementsMatch(t, []string{"always fails", "panics"}, given)
	time.Sleep(2 * backOff) // a fourth delivery would come within this
	mu.Lock()
	defer mu.Unlock()
	d := deliveries["always fails"]
	require.Len(t, d, 3, "bounded deliveries")
	assert.GreaterOrEqual(t, d[1].Sub(d[0]), backOff-50*time.Millisecond, "first back-off")
	assert.GreaterOrEqual(t, d[2].Sub(d[1]), 2*backOff-50*time.Millisecond, "second back-off")
	t.Logf("redelivered after %v and %v", d[1].Sub(d[0]).Round(time.Millisecond), d[2].Sub(d[1]).Round(time.Millisecond))
	assert.Len(t, deliveries["fails once"], 2, "acknowledged on its second delivery")
	assert.Len(t, deliveries["panics"], 3)
}

func TestSubscriberKeepsGoingPastMalformedMessages(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 30*time.Second)
	js, _ := newJetStream(t)
	pub, err := natsactions.NewPublisher(ctx, js)
	require.NoError(t, err)
	defer pub.Close(ctx)
	var he errs
	got := &seen{count: map[string]int{}}
	var dead []string
	var deadMu sync.Mutex
	handler := func(ctx context.Context, ev *natsactions.Event) error {
		var p int
		if err := ev.DecodePayload(&p); err != nil {
			return err // not an int: malformed, given up at once
		}
		return got.handle(ctx, ev)
	}
	sub, err := natsactions.Subscribe(ctx, js, "svc", handler, natsactions.WithErrorHandler(he.handle),
		natsactions.WithDeadLetter(func(ctx context.Context, ev *natsactions.Event, err error) {
			deadMu.Lock()
			defer deadMu.Unlock()
			dead = append(dead, ev.ID)
			assert.ErrorIs(t, err, natsactions.ErrMalformed)
		}))
	require.NoError(t, err)
	defer sub.Stop(ctx)

	for _, garbage := range []string{"not json", `{"id":"x"}`, `{"id":"x","action":"A","status":"weird"}`} {
		_, err := js.Publish(ctx, "actions.events.Accept", []byte(garbage))
		require.NoError(t, err)
	}
	require.NoError(t, pub.Publish(ctx, &natsactions.Event{ID: "bad payload", Action: "Accept", Status: "ok", Payload: []byte(`"text"`)}))
	require.NoError(t, pub.Publish(ctx, &natsactions.Event{ID: "good", Action: "Accept", Status: "ok", Payload: []byte(`42`)}))
	eventually(t, ctx, "the good event", func() bool { return got.distinct() == 1 })
	eventually(t, ctx, "three reports", func() bool { return len(he.all()) == 3 })
	for _, err := range he.all() {
		var me *natsactions.MessageError
		require.ErrorAs(t, err, &me)
		assert.ErrorIs(t, err, natsactions.ErrMalformed)
		assert.Equal(t, "actions.events.Accept", me.Subject)
		t.Log(err)
	}
	deadMu.Lock()
	defer deadMu.Unlock()
	assert.Equal(t, []string{"bad payload"}, dead, "a payload the codec cannot decode is given up on its first delivery")
}

func TestInvokeRunsALocalAction(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 30*time.Second)
	js, _ := newJetStream(t)
	pub, err := natsactions.NewPublisher(ctx, js)
	require.NoError(t, err)
	defer pub.Close(ctx)
	reg := actions.New()
	got := make(chan string, 1)
	_, err = reg.RegisterAction("OnAccepted", func(ctx context.Context, p any) (any, error) {
		got <- p.(*natsactions.Event).ID
		return nil, nil
	})
	require.NoError(t, err)
	sub, err := natsactions.Subscribe(ctx, js, "svc", natsactions.Invoke(reg, "OnAccepted"))
	require.NoError(t, err)
	defer sub.Stop(ctx)
	require.NoError(t, pub.Publish(ctx, &natsactions.Event{ID: "e1", Action: "Accept", Status: "ok"}))
	select {
	case id := <-got:
		assert.Equal(t, "e1", id)
	case <-ctx.Done():
		t.Fatal("the action did not run")
	}
}
