package actions

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hooks attached at run time: observers, de-duplication and block reasons
// (see "Observing invocations", "Blocking, de-duplication, in flight" and
// "Plugins" in the package documentation).

func TestAddObserver(t *testing.T) {
	t.Run("Observing_an_observer_added_at_run_time_sees_exactly_the_invocations_that_begin_after", func(t *testing.T) {
		r := New()
		inBody, release := make(chan struct{}), make(chan struct{})
		mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) {
			if p == 1 {
				close(inBody)
				<-release
			}
			return nil, nil
		})
		early := r.InvokeAction(context.Background(), "Act", 1)
		<-inBody
		spy := &spyObserver{}
		remove := r.AddObserver(spy)
		_, err := r.Call(context.Background(), "Act", 2)
		require.NoError(t, err)
		close(release)
		_, err = early.Result()
		require.NoError(t, err)
		assert.Empty(t, spy.kinds(1), "the invocation that began before it is not seen, not even its end")
		assert.Equal(t, "begin end", spy.kinds(2))
		assert.NotZero(t, spy.ends("Act")[0].inv.ID, "observed invocations get IDs")
		assert.True(t, remove())
		assert.False(t, remove())
		_, err = r.Call(context.Background(), "Act", 3)
		require.NoError(t, err)
		assert.Empty(t, spy.kinds(3))
	})

	t.Run("Observing_an_observer_removed_mid_invocation_still_sees_its_end", func(t *testing.T) {
		r := New()
		spy := &spyObserver{}
		remove := r.AddObserver(spy)
		inBody, release := make(chan struct{}), make(chan struct{})
		mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
			close(inBody)
			<-release
			return "r", nil
		})
		fut := r.InvokeAction(context.Background(), "Act", 1)
		<-inBody
		require.True(t, remove())
		close(release)
		_, err := fut.Result()
		require.NoError(t, err)
		assert.Equal(t, "begin end", spy.kinds(1))
	})

	t.Run("Observing_observers_added_at_run_time_follow_those_given_to_New", func(t *testing.T) {
		var order []string
		var mu sync.Mutex
		hook := func(tag string) Observer {
			return everyHook(func(method string, _ context.Context, _ Invocation) {
				mu.Lock()
				order = append(order, tag+":"+method)
				mu.Unlock()
			})
		}
		r := New(WithObserver(hook("new")))
		r.AddObserver(hook("added"))
		mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return nil, nil })
		_, err := r.Call(context.Background(), "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"new:observer-begin", "added:observer-begin", "new:inflight-begin", "added:inflight-begin",
			"added:inflight-end", "new:inflight-end", "added:observer-end", "new:observer-end"}, order)
	})

	t.Run("Observing_AddObserver_races_invocations", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return nil, nil })
		var begins, ends atomic.Int64
		obs := everyHook(func(method string, _ context.Context, _ Invocation) {
			switch method {
			case "observer-begin":
				begins.Add(1)
			case "observer-end":
				ends.Add(1)
			}
		})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 500 {
					_, _ = r.Call(context.Background(), "Act", nil)
				}
			})
		}
		wg.Go(func() {
			for range 500 {
				r.AddObserver(obs)()
			}
		})
		wg.Wait()
		assert.Equal(t, begins.Load(), ends.Load(), "every begin seen has its end")
	})

	t.Run("Observing_AddObserver_nil_panics", func(t *testing.T) {
		assert.Contains(t, setupPanicMessage(t, "AddObserver", func() { New().AddObserver(nil) }), "nil observer")
	})
}

func TestDeduplicateAction(t *testing.T) {
	t.Run("Blocking_a_rule_attached_at_run_time_rejects_a_key_in_flight", func(t *testing.T) {
		r := New()
		inBody, release := make(chan struct{}), make(chan struct{})
		mustRegister(t, r, "Charge", func(context.Context, any) (any, error) {
			close(inBody)
			<-release
			return "charged", nil
		})
		remove := r.DeduplicateAction("Charge", func(p any) string { return fmt.Sprint(p) }, RejectPending)
		assert.True(t, r.Actions()[0].Deduplicates)
		fut := r.InvokeAction(context.Background(), "Charge", "order-1")
		<-inBody
		_, err := r.Call(context.Background(), "Charge", "order-1")
		assert.ErrorIs(t, err, ErrPending)
		close(release)
		_, err = fut.Result()
		require.NoError(t, err)
		assert.True(t, remove())
		assert.False(t, remove())
		assert.False(t, r.Actions()[0].Deduplicates)
	})

	t.Run("Blocking_the_newest_rule_wins_and_the_action_option_applies_when_none_is_left", func(t *testing.T) {
		synctest.Test(t, newestRuleWins)
	})

	t.Run("Blocking_the_key_table_belongs_to_the_name_across_re_registration", func(t *testing.T) {
		// An idempotency rule attached once, while the host plugin that
		// registers the action is reloaded at least 400 times: no invocation
		// finds no action, and no two bodies with one key ever run at once.
		r := New()
		r.DeduplicateAction("Charge", func(p any) string { return fmt.Sprint(p.(int) % 4) }, RejectPending)
		var running [4]atomic.Int32
		var overlaps, ok, pending atomic.Int64
		host := func() *Plugin {
			p := r.Plugin("host")
			p.RegisterAction("Charge", func(_ context.Context, x any) (any, error) {
				k := x.(int) % 4
				if running[k].Add(1) > 1 {
					overlaps.Add(1)
				}
				for range 50 {
					runtime.Gosched()
				}
				running[k].Add(-1)
				return nil, nil
			})
			return p
		}
		_, err := host().Install()
		require.NoError(t, err)
		var wg sync.WaitGroup
		var unexpected atomic.Value
		stop := make(chan struct{})
		for g := range 16 {
			wg.Go(func() {
				for i := g; ; i += 16 {
					select {
					case <-stop:
						return
					default:
					}
					_, err := r.Call(context.Background(), "Charge", i)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, ErrPending):
						pending.Add(1)
					default:
						unexpected.Store(err)
					}
				}
			})
		}
		for i := 0; i < 400 || ok.Load()+pending.Load() < 2000; i++ {
			_, err := host().Install()
			require.NoError(t, err)
			runtime.Gosched()
		}
		close(stop)
		wg.Wait()
		assert.Nil(t, unexpected.Load(), "no ErrActionNotFound nor anything else")
		assert.Zero(t, overlaps.Load())
		assert.Positive(t, ok.Load())
		assert.Positive(t, pending.Load(), "keys were contended")
		t.Logf("%d ran, %d pending", ok.Load(), pending.Load())
	})

	t.Run("Blocking_a_typed_rule_rejects_a_payload_of_another_type", func(t *testing.T) {
		r := New()
		act := Typed[string, string](r, "Act")
		_, err := act.Register(func(_ context.Context, s string) (string, error) { return s, nil })
		require.NoError(t, err)
		act.Deduplicate(func(s string) string { return s }, RejectPending)
		_, err = r.Call(context.Background(), "Act", 42)
		assert.ErrorIs(t, err, ErrPayloadType)
		v, err := act.Call(context.Background(), "x")
		require.NoError(t, err)
		assert.Equal(t, "x", v)
	})

	t.Run("Blocking_DeduplicateAction_setup_errors_panic", func(t *testing.T) {
		assert.Contains(t, setupPanicMessage(t, "nil key", func() { New().DeduplicateAction("A", nil, RejectPending) }), "nil key")
		assert.Contains(t, setupPanicMessage(t, "empty name", func() { New().DeduplicateAction("", func(any) string { return "" }, RejectPending) }), "empty action name")
	})
}

func TestBlockReason(t *testing.T) {
	t.Run("Blocking_a_block_reason_is_wrapped_and_told", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "Reindex", func(context.Context, any) (any, error) { return nil, nil })
		reason := errors.New("index rebuild in progress")
		unblock := Typed[any, any](r, "Reindex").Block(nil, Reason(reason))
		_, err := r.Call(context.Background(), "Reindex", nil)
		assert.ErrorIs(t, err, ErrBlocked)
		assert.ErrorIs(t, err, reason)
		assert.Equal(t, "actions: Reindex: action blocked: index rebuild in progress", err.Error())
		assert.Empty(t, ErrorOf(err).Plugin)
		unblock()
		r.BlockAction("Reindex", nil)
		_, err = r.Call(context.Background(), "Reindex", nil)
		assert.Equal(t, "actions: Reindex: action blocked", err.Error(), "no reason, as before")
	})
}

func newestRuleWins(t *testing.T) {
	r := New()
	inBody := make(chan struct{}, 1)
	release := make(chan struct{})
	mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
		inBody <- struct{}{}
		<-release
		return "v", nil
	}, Deduplicate(func(any) string { return "k" }, RejectPending))
	remove := r.DeduplicateAction("Act", func(any) string { return "k" }, SharePending)
	lead := r.InvokeAction(context.Background(), "Act", 1)
	<-inBody
	follower := r.InvokeAction(context.Background(), "Act", 2)
	synctest.Wait() // the follower waits for the leader's outcome
	close(release)
	v, err := follower.Result()
	require.NoError(t, err)
	assert.Equal(t, "v", v)
	assert.True(t, follower.Shared(), "the run-time rule shares")
	assert.False(t, lead.Shared())
	remove()
	assert.False(t, r.Actions()[0].SharePending, "back to the action's own rule")
}
