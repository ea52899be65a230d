package natsactions_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idRecorder is an observer that records the ID of each invocation by its
// payload, to check the events against.
type idRecorder struct {
	mu  sync.Mutex
	ids map[any]uint64
}

func (r *idRecorder) InvocationBegin(ctx context.Context, inv actions.Invocation) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids[inv.Payload] = inv.ID
	return ctx
}
func (r *idRecorder) InvocationEnd(context.Context, actions.Invocation, actions.Outcome) {}

// readAll reads every event of the stream, in order, with an ordered
// consumer.
func readAll(t *testing.T, ctx context.Context, js jetstream.JetStream, want int) []*natsactions.Event {
	t.Helper()
	s, err := js.Stream(ctx, "ACTIONS_EVENTS")
	require.NoError(t, err)
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	var out []*natsactions.Event
	for len(out) < want {
		m, err := c.Next(jetstream.FetchContext(ctx))
		require.NoError(t, err, "after %d events", len(out))
		var ev natsactions.Event
		require.NoError(t, jsonUnmarshal(m.Data(), &ev))
		out = append(out, &ev)
	}
	return out
}

func TestPublisherPublishesCompletedInvocations(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 20*time.Second)
	js, _ := newJetStream(t)
	var he errs
	pub, err := natsactions.NewPublisher(ctx, js, natsactions.WithSource("replica-a"), natsactions.WithActions("Accept"), natsactions.WithErrorHandler(he.handle))
	require.NoError(t, err)
	rec := &idRecorder{ids: map[any]uint64{}}
	reg := actions.New(actions.WithObserver(rec), actions.WithObserver(pub))
	_, err = reg.RegisterAction("Accept", func(ctx context.Context, p any) (any, error) {
		if p == "bad" {
			return nil, errors.New("no capacity")
		}
		time.Sleep(2 * time.Millisecond)
		return "accepted " + p.(string), nil
	})
	require.NoError(t, err)
	_, err = reg.RegisterAction("Other", func(ctx context.Context, p any) (any, error) { return p, nil })
	require.NoError(t, err)
	reg.AddListener("beforeAccept", func(ctx context.Context, p any) error {
		if p == "no" {
			return actions.Abort(errors.New("declined"))
		}
		return nil
	})
	reg.BlockAction("Accept", func(p any) bool { return p == "blocked" })

	for _, p := range []string{"ok", "bad", "no", "blocked"} {
		_, _ = reg.Call(ctx, "Accept", p)
	}
	_, _ = reg.Call(ctx, "Other", "not published")
	require.NoError(t, reg.Close(ctx))
	require.NoError(t, pub.Close(ctx))

	events := readAll(t, ctx, js, 3)
	type want struct{ payload, status, result, err string }
	wants := []want{
		{"ok", "ok", "accepted ok", ""},
		{"bad", "failed", "", "actions: Accept: action failed in body: no capacity"},
		{"no", "aborted", "", "actions: Accept: action aborted in before phase: declined"},
	}
	ids := map[string]bool{}
	for i, w := range wants {
		ev := events[i]
		var payload, result string
		require.NoError(t, ev.DecodePayload(&payload))
		require.NoError(t, ev.DecodeResult(&result))
		assert.Equal(t, w.payload, payload, "event %d", i)
		assert.Equal(t, "Accept", ev.Action)
		assert.Equal(t, "replica-a", ev.Source)
		assert.Equal(t, w.status, ev.Status, "%s", w.payload)
		assert.Equal(t, w.result, result, "%s", w.payload)
		assert.Equal(t, w.err, ev.Error, "%s", w.payload)
		assert.Equal(t, rec.ids[w.payload], ev.Invocation, "%s", w.payload)
		assert.True(t, strings.HasSuffix(ev.ID, fmt.Sprintf(".%d", ev.Invocation)), "ID %s", ev.ID)
		assert.False(t, ev.Start.IsZero())
		ids[ev.ID] = true
	}
	assert.GreaterOrEqual(t, events[0].Duration, 2*time.Millisecond, "the body slept 2 ms")
	assert.Len(t, ids, 3, "distinct IDs")
	info, err := js.Stream(ctx, "ACTIONS_EVENTS")
	require.NoError(t, err)
	assert.Equal(t, uint64(3), info.CachedInfo().State.Msgs, "the rejected invocation and the other action are not published")
	assert.Empty(t, he.all())
}

func TestPublishSameEventTwiceStoresOnce(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 20*time.Second)
	js, _ := newJetStream(t)
	pub, err := natsactions.NewPublisher(ctx, js)
	require.NoError(t, err)
	defer pub.Close(ctx)
	ev := &natsactions.Event{ID: "p1.7", Action: "Accept", Invocation: 7, Status: "ok", Start: time.Now()}
	require.NoError(t, pub.Publish(ctx, ev))
	require.NoError(t, pub.Publish(ctx, ev), "a retry is acknowledged as a duplicate")
	other := *ev
	other.ID = "p1.8"
	require.NoError(t, pub.Publish(ctx, &other))
	s, err := js.Stream(ctx, "ACTIONS_EVENTS")
	require.NoError(t, err)
	assert.Equal(t, uint64(2), s.CachedInfo().State.Msgs, "the same ID is stored once; another ID again")
}

func TestPublisherReportsEveryEventNotPublished(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 20*time.Second)
	srv := natstest.Server(t)
	js, _ := jetStream(t, srv.ClientURL())
	var he errs
	pub, err := natsactions.NewPublisher(ctx, js, natsactions.WithQueueSize(1),
		natsactions.WithPublishRetry(200*time.Millisecond, 1), natsactions.WithErrorHandler(he.handle))
	require.NoError(t, err)
	reg := actions.New(actions.WithObserver(pub))
	_, err = reg.RegisterAction("Accept", func(ctx context.Context, p any) (any, error) { return p, nil })
	require.NoError(t, err)

	srv.Shutdown() // every publish now fails
	const n = 6
	for i := range n {
		_, err := reg.Call(ctx, "Accept", i)
		require.NoError(t, err, "publishing never fails the invocation")
	}
	require.NoError(t, pub.Close(ctx))
	_, _ = reg.Call(ctx, "Accept", "after close")

	seen := map[string]int{}
	for _, err := range he.all() {
		var pe *natsactions.PublishError
		require.ErrorAs(t, err, &pe)
		seen[pe.Event.ID]++
	}
	assert.Len(t, seen, n+1, "every event is reported")
	for id, c := range seen {
		assert.Equal(t, 1, c, "event %s reported once", id)
	}
	assert.NotEmpty(t, he.matching(natsactions.ErrQueueFull), "a queue of one overflows")
	assert.Len(t, he.matching(natsactions.ErrClosed), 1, "the event after Close")
	t.Logf("%d queue full, %d failed to publish", len(he.matching(natsactions.ErrQueueFull)), n-len(he.matching(natsactions.ErrQueueFull)))
}

func TestPublisherCodecError(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 20*time.Second)
	js, _ := newJetStream(t)
	var he errs
	pub, err := natsactions.NewPublisher(ctx, js, natsactions.WithErrorHandler(he.handle))
	require.NoError(t, err)
	reg := actions.New(actions.WithObserver(pub))
	_, err = reg.RegisterAction("Accept", func(ctx context.Context, p any) (any, error) { return "fine", nil })
	require.NoError(t, err)
	_, err = reg.Call(ctx, "Accept", make(chan int)) // JSON cannot encode a channel
	require.NoError(t, err)
	require.NoError(t, pub.Close(ctx))

	ev := readAll(t, ctx, js, 1)[0]
	assert.Nil(t, ev.Payload)
	assert.Contains(t, ev.CodecError, "payload: json: unsupported type: chan int")
	var res string
	require.NoError(t, ev.DecodeResult(&res))
	assert.Equal(t, "fine", res, "the result is still there")
	require.Len(t, he.all(), 1)
	assert.ErrorIs(t, he.all()[0], natsactions.ErrMalformed)
}
