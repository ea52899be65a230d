package otelactions_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/otelactions"
)

// The recommended bucket boundaries for durations, in seconds.
var wantBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// After N invocations, the counter and the histogram hold exactly N, by
// action and outcome, and the histogram's sum is the sum of the durations.
// In a synctest bubble time moves only when every goroutine sleeps, so each
// duration is exactly what the body slept.
func TestMetrics_exact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		r := h.registry()
		register(t, r, "A", func(_ context.Context, p any) (any, error) {
			time.Sleep(time.Duration(p.(int)) * time.Millisecond)
			return nil, nil
		})
		r.AddListener("beforeA", func(_ context.Context, p any) error {
			if p.(int) < 0 {
				return actions.Abort(nil)
			}
			return nil
		})
		register(t, r, "B", func(context.Context, any) (any, error) {
			time.Sleep(time.Second)
			return nil, errCRMDown
		})

		var wantSum float64
		for i := range 10 { // A ok, 0 to 9 ms
			_, err := r.Call(context.Background(), "A", i)
			require.NoError(t, err)
			wantSum += (time.Duration(i) * time.Millisecond).Seconds()
		}
		for range 3 {
			_, err := r.Call(context.Background(), "A", -1)
			require.ErrorIs(t, err, actions.ErrAborted)
		}
		for range 2 {
			_, err := r.Call(context.Background(), "B", nil)
			require.ErrorIs(t, err, actions.ErrFailed)
		}
		_, err := r.Call(context.Background(), "Nope", nil)
		require.ErrorIs(t, err, actions.ErrActionNotFound)

		rm := h.collect(t)
		want := map[outcomeKey]int64{
			{"A", "ok"}: 10, {"A", "aborted"}: 3, {"B", "failed"}: 2, {"Nope", "rejected"}: 1,
		}
		assert.Equal(t, want, sums(t, rm, otelactions.InvocationsMetric))
		assert.Equal(t, "{invocation}", metricOf(t, rm, otelactions.InvocationsMetric).Unit)

		hist := histogram(t, rm)
		require.Len(t, hist, len(want))
		for k, n := range want {
			assert.Equal(t, uint64(n), hist[k].Count, "%v: count", k)
			assert.Equal(t, wantBounds, hist[k].Bounds, "%v: bounds", k)
		}
		assert.Equal(t, "s", metricOf(t, rm, otelactions.DurationMetric).Unit)
		assert.Equal(t, wantSum, hist[outcomeKey{"A", "ok"}].Sum, "the durations, 0 to 9 ms")
		assert.Equal(t, []uint64{6, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, hist[outcomeKey{"A", "ok"}].BucketCounts,
			"0 to 5 ms in the first bucket, 6 to 9 ms in the second")
		assert.Equal(t, 0.0, hist[outcomeKey{"A", "aborted"}].Sum)
		assert.Equal(t, 2.0, hist[outcomeKey{"B", "failed"}].Sum)
		assert.Equal(t, 0.0, hist[outcomeKey{"Nope", "rejected"}].Sum)
	})
}

// The in-flight counter counts the invocations between the start of their
// before phase and their end, and is back to 0 when they are done;
// rejected invocations never count.
func TestMetrics_inFlight(t *testing.T) {
	const n = 5
	h := newHarness(t)
	r := h.registry()
	release, started := make(chan struct{}), make(chan struct{}, n)
	register(t, r, "A", func(context.Context, any) (any, error) {
		started <- struct{}{} // the in-flight window opened before the body
		<-release
		return nil, nil
	})
	r.AddListener("beforeB", func(context.Context, any) error { return actions.Abort(nil) })
	register(t, r, "B", ok)

	futures := make([]*actions.Future[any], n)
	for i := range futures {
		futures[i] = r.InvokeAction(context.Background(), "A", i)
	}
	for range n {
		<-started
	}
	_, err := r.Call(context.Background(), "Nope", nil)
	require.Error(t, err)
	_, err = r.Call(context.Background(), "B", nil) // in flight, and out again
	require.ErrorIs(t, err, actions.ErrAborted)

	during := sums(t, h.collect(t), otelactions.InFlightMetric)
	close(release)
	for _, f := range futures {
		_, err := f.Wait(context.Background())
		require.NoError(t, err)
	}
	after := sums(t, h.collect(t), otelactions.InFlightMetric)

	assert.Equal(t, map[outcomeKey]int64{{"A", ""}: n, {"B", ""}: 0}, during, "n in flight")
	assert.Equal(t, map[outcomeKey]int64{{"A", ""}: 0, {"B", ""}: 0}, after, "back to 0")
}

// Each after-listener that fails is counted, once per joined error, and is
// an exception event on a span whose outcome stands.
func TestMetrics_afterListenerFailures(t *testing.T) {
	for _, concurrent := range []bool{false, true} {
		name := "sequential"
		if concurrent {
			name = "concurrent"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			r := h.registry()
			register(t, r, "A", ok, actions.Concurrent(concurrent))
			register(t, r, "B", ok)
			r.AddListener("afterA", func(context.Context, any) error { return errCRMDown }, actions.Named("crm-sync"))
			r.AddListener("afterA", func(context.Context, any) error { return nil })
			r.AddListener("afterA", func(context.Context, any) error { panic("audit") }, actions.Named("audit"))
			r.AddListener("afterB", func(context.Context, any) error { return errors.New("once") })

			for range 3 {
				res, err := r.Call(context.Background(), "A", "x")
				require.NoError(t, err)
				require.Equal(t, "x", res)
			}
			_, err := r.Call(context.Background(), "B", nil)
			require.NoError(t, err)

			assert.Equal(t, map[outcomeKey]int64{{"A", ""}: 6, {"B", ""}: 1},
				sums(t, h.collect(t), otelactions.AfterListenerFailuresMetric))

			s := h.byName("A")[0]
			a := attrs(s.Attributes())
			assert.Equal(t, "ok", a[otelactions.OutcomeKey].AsString())
			assert.Equal(t, int64(2), a[otelactions.AfterListenerFailuresKey].AsInt64())
			assert.Equal(t, "Unset", s.Status().Code.String(), "the result stood")
			require.Len(t, s.Events(), 2)
			byListener := map[string]map[string]string{}
			for _, ev := range s.Events() {
				require.Equal(t, "exception", ev.Name)
				m := map[string]string{}
				for k, v := range attrs(ev.Attributes) {
					m[string(k)] = v.AsString()
				}
				byListener[m[string(otelactions.ListenerKey)]] = m
			}
			crm, audit := byListener["crm-sync"], byListener["audit"]
			assert.Equal(t, "after phase", crm[string(otelactions.StageKey)])
			assert.Equal(t, `actions: A: after-listener "crm-sync" failed: crm down`, crm["exception.message"])
			assert.Equal(t, "*errors.errorString", crm["exception.type"])
			assert.NotContains(t, crm, "exception.stacktrace")
			assert.Equal(t, "after phase", audit[string(otelactions.StageKey)])
			assert.Equal(t, "string", audit["exception.type"])
			assert.Contains(t, audit["exception.stacktrace"], "TestMetrics_afterListenerFailures", "the panic's stack")
		})
	}
}

// Invocations from many goroutines at once are all counted, exactly, and all
// their spans end.
func TestConcurrent(t *testing.T) {
	const goroutines, each = 16, 200
	h := newHarness(t)
	r := h.registry()
	register(t, r, "A", func(ctx context.Context, p any) (any, error) {
		if p.(int)%2 == 1 {
			return nil, errCRMDown
		}
		return r.Call(ctx, "B", p) // nested
	})
	register(t, r, "B", ok)
	r.AddListener("afterB", func(context.Context, any) error { return errCRMDown })

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				var err error
				if g%2 == 0 {
					_, err = r.Call(context.Background(), "A", i)
				} else {
					_, err = r.InvokeAction(context.Background(), "A", i).Wait(context.Background())
				}
				if (i%2 == 1) != (err != nil) {
					t.Errorf("invocation %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()

	const half = goroutines * each / 2
	rm := h.collect(t)
	assert.Equal(t, map[outcomeKey]int64{{"A", "ok"}: half, {"A", "failed"}: half, {"B", "ok"}: half},
		sums(t, rm, otelactions.InvocationsMetric))
	hist := histogram(t, rm)
	for _, k := range []outcomeKey{{"A", "ok"}, {"A", "failed"}, {"B", "ok"}} {
		assert.Equal(t, uint64(half), hist[k].Count, "%v", k)
	}
	assert.Equal(t, map[outcomeKey]int64{{"A", ""}: 0, {"B", ""}: 0}, sums(t, rm, otelactions.InFlightMetric))
	assert.Equal(t, map[outcomeKey]int64{{"B", ""}: half}, sums(t, rm, otelactions.AfterListenerFailuresMetric))
	assert.Len(t, h.rec.Started(), 3*half)
	assert.Len(t, h.ended(), 3*half, "every span ended")
	names := map[trace.SpanID]string{}
	for _, s := range h.ended() {
		names[s.SpanContext().SpanID()] = s.Name()
	}
	for _, s := range h.byName("B") {
		require.Equal(t, "A", names[s.Parent().SpanID()], "B's parent is an A")
	}
}
