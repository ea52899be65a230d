package actionstest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionstest"
)

var errReason = errors.New("agent declined")

// What each fake returns, as a body and as a listener, called directly.
func TestFake_returns(t *testing.T) {
	cases := []struct {
		name        string
		fake        *actionstest.Fake
		result      any
		err, reason error // err: what the body and listener return; reason: what it wraps
	}{
		{"zero", &actionstest.Fake{}, nil, nil, nil},
		{"Returns", actionstest.Returns(42), 42, nil, nil},
		{"Fails", actionstest.Fails(errCRM), nil, errCRM, errCRM},
		{"Aborts", actionstest.Aborts(errReason), nil, actions.ErrAborted, errReason},
		{"Aborts_without_reason", actionstest.Aborts(nil), nil, actions.ErrAborted, actions.ErrAborted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			res, err := c.fake.Body(ctx, "payload")
			assert.Equal(t, c.result, res)
			lerr := c.fake.Listener(ctx, "payload")
			for _, e := range []error{err, lerr} {
				if c.err == nil {
					assert.NoError(t, e)
					continue
				}
				assert.ErrorIs(t, e, c.err)
				assert.ErrorIs(t, e, c.reason)
			}
			assert.Equal(t, 2, c.fake.Calls())
			select {
			case <-c.fake.Entered():
			default:
				t.Error("Entered is not closed after a call")
			}
			c.fake.Release() // nothing to release: no effect
			assert.Equal(t, 2, c.fake.Calls())
		})
	}
}

// The fakes in a registry: a listener that aborts aborts, one that fails
// fails, a body that aborts fails.
func TestFake_inARegistry(t *testing.T) {
	cases := []struct {
		name     string
		listener *actionstest.Fake
		body     *actionstest.Fake
		want     string
		wantErr  error
	}{
		{"Returns", actionstest.Returns("ignored"), actionstest.Returns("done"), "A ok", nil},
		{"Aborts_listener", actionstest.Aborts(errReason), actionstest.Returns(nil), "A aborted", errReason},
		{"Fails_listener", actionstest.Fails(errCRM), actionstest.Returns(nil), "A failed", errCRM},
		{"Aborts_body", actionstest.Returns(nil), actionstest.Aborts(errReason), "A failed", errReason},
		{"Fails_body", actionstest.Returns(nil), actionstest.Fails(errCRM), "A failed", errCRM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := actionstest.New(t)
			register(t, reg, "A", c.body.Body)
			reg.AddListener("beforeA", c.listener.Listener)
			res, err := reg.Call(t.Context(), "A", nil)
			actionstest.Record(reg).AssertInvocations(t, c.want)
			if c.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, "done", res)
				return
			}
			assert.ErrorIs(t, err, c.wantErr)
		})
	}
}

func TestBlocking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := actionstest.Blocking()
		select {
		case <-b.Entered():
			t.Fatal("entered before any call")
		default:
		}
		reg := actionstest.New(t)
		register(t, reg, "A", b.Body)
		reg.AddListener("afterA", b.Listener)
		fut := reg.InvokeAction(t.Context(), "A", nil)
		<-b.Entered()
		assert.Equal(t, 1, b.Calls(), "counted once entered")
		synctest.Wait()
		assert.False(t, isDone(fut), "the body is still blocked")

		b.Release()
		res, err := fut.Wait(t.Context())
		require.NoError(t, err)
		assert.Nil(t, res)
		assert.Equal(t, 2, b.Calls(), "the listener went through once released")
		b.Release() // again: no effect
		_, err = reg.Call(t.Context(), "A", nil)
		require.NoError(t, err)
		assert.Equal(t, 4, b.Calls())
	})
}

// A blocked fake returns its context's error once the context is done:
// the invocation ends as cancelled.
func TestBlocking_honoursItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, stage := range []string{"body", "listener"} {
			b := actionstest.Blocking()
			reg := actionstest.New(t)
			register(t, reg, "A", actionstest.Returns(nil).Body)
			if stage == "body" {
				reg = actionstest.New(t)
				register(t, reg, "A", b.Body)
			} else {
				reg.AddListener("beforeA", b.Listener)
			}
			ctx, cancel := context.WithCancel(t.Context())
			fut := reg.InvokeAction(ctx, "A", nil)
			<-b.Entered()
			cancel()
			_, err := fut.Wait(t.Context())
			assert.ErrorIs(t, err, context.Canceled, stage)
			assert.Equal(t, actions.StatusCancelled, actions.StatusOf(err), stage)
		}
	})
}

// Released wins over a done context: a call made after Release returns
// nil even with a done context.
func TestBlocking_releasedWinsOverADoneContext(t *testing.T) {
	b := actionstest.Blocking()
	b.Release()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 100 {
		require.NoError(t, b.Listener(ctx, nil))
	}
}

// Calls from many goroutines, Release and Entered concurrently; run with
// -race.
func TestFake_concurrentUse(t *testing.T) {
	const n = 64
	b := actionstest.Blocking()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_ = b.Listener(t.Context(), nil)
			<-b.Entered()
		})
	}
	wg.Go(func() {
		<-b.Entered()
		b.Release()
	})
	wg.Go(b.Release)
	wg.Wait()
	assert.Equal(t, n, b.Calls())
}

// isDone reports whether fut has completed, without waiting.
func isDone(fut *actions.Future[any]) bool {
	select {
	case <-fut.Done():
		return true
	default:
		return false
	}
}
