package actions

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingHandler is a slog.Handler that keeps every record with the
// context it was logged with.
type recordingHandler struct {
	mu      sync.Mutex
	records []loggedRecord
}

type loggedRecord struct {
	ctx   context.Context
	level slog.Level
	msg   string
	attrs map[string]string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }

func (h *recordingHandler) Handle(ctx context.Context, r slog.Record) error {
	rec := loggedRecord{ctx: ctx, level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) ends() []loggedRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []loggedRecord
	for _, r := range h.records {
		if r.msg != "action begin" {
			out = append(out, r)
		}
	}
	return out
}

type requestIDKey struct{}

// TestSlogObserver covers SlogObserver's records: one per outcome, at the
// outcome's level, with the invocation's context and the error's details as
// attributes (Observability).
func TestSlogAttributes(t *testing.T) {
	h := &recordingHandler{}
	r := New(WithObserver(SlogObserver(slog.New(h))))
	mustRegister(t, r, "ok", func(context.Context, any) (any, error) { return "res", nil })
	mustRegister(t, r, "aborted", func(context.Context, any) (any, error) { return nil, nil })
	r.AddListener("beforeaborted", func(context.Context, any) error { return Abort(errors.New("over quota")) }, Named("quota"))
	mustRegister(t, r, "panics", func(context.Context, any) (any, error) { panic("boom") })
	mustRegister(t, r, "slow", func(ctx context.Context, _ any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	ctx := context.WithValue(context.Background(), requestIDKey{}, "req-7")
	timeout, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, _ = r.Call(ctx, "ok", nil)
	_, _ = r.Call(ctx, "aborted", nil)
	_, _ = r.Call(ctx, "panics", nil)
	_, _ = r.Call(timeout, "slow", nil)
	_, _ = r.Call(ctx, "missing", nil)
	mustRegister(t, r, "reindex", func(context.Context, any) (any, error) { return nil, nil })
	p := r.Plugin("maintenance")
	p.BlockAction("reindex", nil, Reason(errors.New("until 02:00")))
	_, err := p.Install()
	require.NoError(t, err)
	_, _ = r.Call(ctx, "reindex", nil)

	ends := h.ends()
	require.Len(t, ends, 6)
	want := []struct {
		level slog.Level
		msg   string
		attrs map[string]string
	}{
		{slog.LevelDebug, "action done", map[string]string{"action": "ok", "status": "ok", "depth": "1"}},
		{slog.LevelInfo, "action aborted", map[string]string{"action": "aborted", "status": "aborted", "stage": "before phase", "listener": "quota", "reason": "over quota"}},
		{slog.LevelWarn, "action failed", map[string]string{"action": "panics", "status": "failed", "stage": "body", "panic": "boom"}},
		{slog.LevelInfo, "action cancelled", map[string]string{"action": "slow", "status": "cancelled", "stage": "body"}},
		{slog.LevelInfo, "action rejected", map[string]string{"action": "missing", "status": "rejected"}},
		{slog.LevelInfo, "action rejected", map[string]string{"action": "reindex", "status": "rejected", "plugin": "maintenance", "reason": "until 02:00"}},
	}
	for i, w := range want {
		got := ends[i]
		assert.Equal(t, w.level, got.level, w.msg)
		assert.Equal(t, w.msg, got.msg)
		for k, v := range w.attrs {
			assert.Equal(t, v, got.attrs[k], "%s: attribute %s", w.msg, k)
		}
		assert.NotEmpty(t, got.attrs["id"], "%s: id", w.msg)
		assert.NotEmpty(t, got.attrs["duration"], "%s: duration", w.msg)
		assert.Equal(t, "req-7", got.ctx.Value(requestIDKey{}), "%s: logged with the invocation's context", w.msg)
		inv, ok := InvocationFrom(got.ctx)
		assert.True(t, ok, "%s: the context is the invocation's", w.msg)
		assert.Equal(t, w.attrs["action"], inv.Action)
	}
	assert.Contains(t, ends[2].attrs["stack"], "panic", "the panic's stack is logged with the failure")
	assert.NotContains(t, ends[0].attrs, "err")
}

// TestErrorHandler covers the error handler's context and the default
// handler's records (Aborting and errors).
func TestErrorHandler(t *testing.T) {
	t.Run("Aborting and errors: the error handler gets the invocation's ctx", func(t *testing.T) {
		type got struct {
			inv   Invocation
			reqID any
			err   error
		}
		var mu sync.Mutex
		var calls []got
		r := New(WithObserver(hookObserver{}), WithErrorHandler(func(ctx context.Context, err error) {
			inv, ok := InvocationFrom(ctx)
			assert.True(t, ok)
			mu.Lock()
			calls = append(calls, got{inv, ctx.Value(requestIDKey{}), err})
			mu.Unlock()
		}))
		mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
		r.AddListener("afterA", func(context.Context, any) error { return errors.New("audit down") }, Named("audit"))
		ctx := context.WithValue(context.Background(), requestIDKey{}, "req-9")
		res, err := r.Call(ctx, "A", "payload")
		require.NoError(t, err)
		assert.Equal(t, "res", res)
		require.Len(t, calls, 1)
		c := calls[0]
		assert.Equal(t, "A", c.inv.Action)
		assert.NotZero(t, c.inv.ID, "with an observer, the invocation has an ID")
		assert.Equal(t, "payload", c.inv.Payload)
		assert.Equal(t, "req-9", c.reqID, "the caller's values reach the handler")
		assert.EqualError(t, c.err, `actions: A: after-listener "audit" failed: audit down`)
	})

	t.Run("Aborting and errors: the default handler logs one record per error, with attributes", func(t *testing.T) {
		h := &recordingHandler{}
		defer slog.SetDefault(slog.Default())
		slog.SetDefault(slog.New(h))
		r := New()
		mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil }, Concurrent(true))
		r.AddListener("afterA", func(context.Context, any) error { return errors.New("audit down") }, Named("audit"))
		r.AddListener("afterA", func(context.Context, any) error { panic("metrics down") }, Named("metrics"))
		ctx := context.WithValue(context.Background(), requestIDKey{}, "req-3")
		_, err := r.Call(ctx, "A", nil)
		require.NoError(t, err)
		recs := h.ends()
		require.Len(t, recs, 2, "one record per error")
		byListener := map[string]loggedRecord{}
		for _, rec := range recs {
			assert.Equal(t, slog.LevelError, rec.level)
			assert.Equal(t, "actions: after-listener failed", rec.msg)
			assert.Equal(t, "A", rec.attrs["action"])
			assert.Equal(t, "after phase", rec.attrs["stage"])
			assert.False(t, strings.Contains(rec.attrs["err"], "\n"), "one line each: %q", rec.attrs["err"])
			assert.Equal(t, "req-3", rec.ctx.Value(requestIDKey{}))
			byListener[rec.attrs["listener"]] = rec
		}
		assert.Contains(t, byListener["audit"].attrs["err"], "audit down")
		assert.Equal(t, "metrics down", byListener["metrics"].attrs["panic"])
	})
}

// TestOutcomeAfterErr: the observer sees what the error handler received
// (Observability).
func TestOutcomeAfterErr(t *testing.T) {
	var handled, observed error
	r := New(WithErrorHandler(func(_ context.Context, err error) { handled = err }),
		WithObserver(hookObserver{end: func(_ context.Context, _ Invocation, out Outcome) { observed = out.AfterErr }}))
	mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
	_, err := r.Call(context.Background(), "A", nil)
	require.NoError(t, err)
	assert.Nil(t, observed, "no after-listener failed")
	r.AddListener("afterA", func(context.Context, any) error { return errors.New("audit down") })
	r.AddListener("afterA", func(context.Context, any) error { return errors.New("metrics down") })
	res, err := r.Call(context.Background(), "A", nil)
	require.NoError(t, err)
	assert.Equal(t, "res", res)
	require.Error(t, observed)
	assert.Same(t, handled, observed)
	assert.ErrorContains(t, observed, "metrics down")
}
