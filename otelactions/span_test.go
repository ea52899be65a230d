package otelactions_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/otelactions"
)

// invokeFunc invokes an action and waits for it, one way or another.
type invokeFunc func(ctx context.Context, r *actions.Registry, name string, p any) (any, error)

func callSync(ctx context.Context, r *actions.Registry, name string, p any) (any, error) {
	return r.Call(ctx, name, p)
}

func invokeAsync(ctx context.Context, r *actions.Registry, name string, p any) (any, error) {
	return r.InvokeAction(ctx, name, p).Wait(ctx)
}

// Each invocation's span is a child of the span of the context it was made
// with: the caller's for the first, the invoking stage's for a nested one,
// at any depth, whether the invocations are synchronous or not; and the
// stages of an invocation see its span (the package documentation, "Spans").
func TestSpans_parentage(t *testing.T) {
	tests := []struct {
		name  string
		modes []invokeFunc // the way level i is invoked: modes[i % len(modes)]
	}{
		{"sync_Call", []invokeFunc{callSync}},
		{"async_InvokeAction", []invokeFunc{invokeAsync}},
		{"mixed", []invokeFunc{callSync, invokeAsync}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const depth = 5
			h := newHarness(t)
			r := h.registry()
			invoke := func(ctx context.Context, level int) error {
				_, err := tt.modes[level%len(tt.modes)](ctx, r, fmt.Sprint("Level", level), level)
				return err
			}
			seen := make([]trace.SpanContext, depth+1) // the span each level's stages see
			for level := 1; level <= depth; level++ {
				next := func(ctx context.Context) error {
					seen[level] = trace.SpanFromContext(ctx).SpanContext()
					if level == depth {
						return nil
					}
					return invoke(ctx, level+1)
				}
				// Nest through a different stage at each level: body,
				// before-listener, after-listener, replacement.
				register(t, r, fmt.Sprint("Level", level), ok)
				switch level % 4 {
				case 1:
					r.ReplaceAction(fmt.Sprint("Level", level), func(ctx context.Context, p any, original actions.Body) (any, error) {
						if err := next(ctx); err != nil {
							return nil, err
						}
						return original(ctx, p)
					})
				case 2:
					r.AddListener(fmt.Sprint("beforeLevel", level), func(ctx context.Context, _ any) error { return next(ctx) })
				case 3:
					r.AddListener(fmt.Sprint("afterLevel", level), func(ctx context.Context, _ any) error {
						return next(ctx)
					})
				case 0:
					r.ReplaceAction(fmt.Sprint("Level", level), func(ctx context.Context, p any, _ actions.Body) (any, error) {
						return p, next(ctx)
					})
				}
			}

			ctx, root := h.tp.Tracer("test").Start(context.Background(), "caller")
			require.NoError(t, invoke(ctx, 1))
			root.End()

			require.Len(t, h.ended(), depth+1)
			parent := root.SpanContext()
			var parentID attribute.Value
			for level := 1; level <= depth; level++ {
				spans := h.byName(fmt.Sprint("Level", level))
				require.Len(t, spans, 1, "level %d", level)
				s := spans[0]
				a := attrs(s.Attributes())
				assert.Equal(t, parent, s.Parent(), "level %d's parent", level)
				assert.Equal(t, root.SpanContext().TraceID(), s.SpanContext().TraceID(), "level %d's trace", level)
				assert.Equal(t, s.SpanContext(), seen[level], "level %d's stages see its span", level)
				assert.Equal(t, int64(level), a[otelactions.DepthKey].AsInt64(), "level %d's depth", level)
				if level == 1 {
					assert.NotContains(t, a, otelactions.ParentIDKey, "a top-level invocation has no parent ID")
				} else {
					assert.Equal(t, parentID, a[otelactions.ParentIDKey], "level %d's parent ID", level)
				}
				assert.NotZero(t, a[otelactions.InvocationIDKey].AsInt64())
				parent, parentID = s.SpanContext(), a[otelactions.InvocationIDKey]
			}
		})
	}
}

// An invocation made with a context that carries no span starts a trace of
// its own.
func TestSpans_rootWithoutCallerSpan(t *testing.T) {
	h := newHarness(t)
	r := h.registry()
	register(t, r, "A", ok)

	_, err := r.Call(context.Background(), "A", nil)
	require.NoError(t, err)
	_, err = r.Call(context.Background(), "A", nil)
	require.NoError(t, err)

	spans := h.ended()
	require.Len(t, spans, 2)
	for _, s := range spans {
		assert.False(t, s.Parent().IsValid(), "no parent")
	}
	assert.NotEqual(t, spans[0].SpanContext().TraceID(), spans[1].SpanContext().TraceID())
}

var (
	errDeclined = errors.New("agent declined")
	errCRMDown  = errors.New("crm down")
)

// panickyBody is a body that panics, named so that its frame can be found in
// the stack of the panic.
func panickyBody(context.Context, any) (any, error) { panic("boom") }

// Each outcome is told by the span's attributes and events, whatever it is
// (the package documentation, "Spans").
func TestSpans_outcomes(t *testing.T) {
	type event struct {
		typ, msg, stage, listener string
		stack                     string // a frame the stacktrace must show; empty for none
	}
	tests := []struct {
		name   string
		setup  func(t *testing.T, r *actions.Registry)
		action string
		ctx    func() context.Context
		// wants
		outcome actions.Status
		attrs   map[attribute.Key]string // string attributes, exactly
		absent  []attribute.Key
		events  []event
	}{
		{
			name:    "ok",
			setup:   func(t *testing.T, r *actions.Registry) { register(t, r, "A", ok) },
			outcome: actions.StatusOK,
			absent: []attribute.Key{otelactions.ErrorKey, "error.type", otelactions.StageKey, otelactions.ListenerKey,
				otelactions.AbortReasonKey, otelactions.SharedKey, otelactions.AfterListenerFailuresKey},
		},
		{
			name: "aborted_with_reason_and_listener",
			setup: func(t *testing.T, r *actions.Registry) {
				register(t, r, "A", ok)
				r.AddListener("beforeA", func(context.Context, any) error { return actions.Abort(errDeclined) }, actions.Named("confirm"))
			},
			outcome: actions.StatusAborted,
			attrs: map[attribute.Key]string{
				otelactions.StageKey:       "before phase",
				otelactions.ListenerKey:    "confirm",
				otelactions.AbortReasonKey: "agent declined",
				"error.type":               "aborted",
				otelactions.ErrorKey:       `actions: A: action aborted in before phase by listener "confirm": agent declined`,
			},
		},
		{
			name: "aborted_without_reason_or_name",
			setup: func(t *testing.T, r *actions.Registry) {
				register(t, r, "A", ok)
				r.AddListener("beforeA", func(context.Context, any) error { return actions.Abort(nil) })
			},
			outcome: actions.StatusAborted,
			attrs:   map[attribute.Key]string{otelactions.StageKey: "before phase"},
			absent:  []attribute.Key{otelactions.ListenerKey, otelactions.AbortReasonKey},
		},
		{
			name: "aborted_in_concurrent_phase_wins_over_failure",
			setup: func(t *testing.T, r *actions.Registry) {
				register(t, r, "A", ok, actions.Concurrent(true))
				r.AddListener("beforeA", func(context.Context, any) error { return errCRMDown }, actions.Named("lookup"))
				r.AddListener("beforeA", func(context.Context, any) error { return actions.Abort(errDeclined) }, actions.Named("confirm"))
			},
			outcome: actions.StatusAborted,
			attrs: map[attribute.Key]string{
				otelactions.StageKey:       "before phase",
				otelactions.ListenerKey:    "confirm",
				otelactions.AbortReasonKey: "agent declined",
			},
		},
		{
			name: "failed_in_body",
			setup: func(t *testing.T, r *actions.Registry) {
				register(t, r, "A", func(context.Context, any) (any, error) { return nil, errCRMDown })
			},
			outcome: actions.StatusFailed,
			attrs: map[attribute.Key]string{
				otelactions.StageKey: "body",
				"error.type":         "failed",
				otelactions.ErrorKey: "actions: A: action failed in body: crm down",
			},
			absent: []attribute.Key{otelactions.ListenerKey, otelactions.AbortReasonKey},
			events: []event{{typ: "*errors.errorString", msg: "actions: A: action failed in body: crm down", stage: "body"}},
		},
		{
			name: "failed_in_named_before_listener",
			setup: func(t *testing.T, r *actions.Registry) {
				register(t, r, "A", ok)
				r.AddListener("beforeA", func(context.Context, any) error { return errCRMDown }, actions.Named("lookup"))
			},
			outcome: actions.StatusFailed,
			attrs:   map[attribute.Key]string{otelactions.StageKey: "before phase", otelactions.ListenerKey: "lookup"},
			events: []event{{typ: "*errors.errorString", msg: `actions: A: action failed in before phase by listener "lookup": crm down`,
				stage: "before phase", listener: "lookup"}},
		},
		{
			name:    "panic_in_body",
			setup:   func(t *testing.T, r *actions.Registry) { register(t, r, "A", panickyBody) },
			outcome: actions.StatusFailed,
			attrs:   map[attribute.Key]string{otelactions.StageKey: "body", otelactions.ErrorKey: "actions: A: action failed in body: panic: boom"},
			events: []event{{typ: "string", msg: "actions: A: action failed in body: panic: boom", stage: "body",
				stack: "otelactions_test.panickyBody"}},
		},
		{
			name:    "rejected_not_found",
			setup:   func(*testing.T, *actions.Registry) {},
			action:  "Nope",
			outcome: actions.StatusRejected,
			attrs:   map[attribute.Key]string{"error.type": "rejected", otelactions.ErrorKey: "actions: Nope: action not found"},
			absent:  []attribute.Key{otelactions.StageKey, otelactions.ListenerKey},
		},
		{
			name: "rejected_blocked",
			setup: func(t *testing.T, r *actions.Registry) {
				register(t, r, "A", ok)
				r.BlockAction("A", nil)
			},
			outcome: actions.StatusRejected,
			attrs:   map[attribute.Key]string{otelactions.ErrorKey: "actions: A: action blocked"},
		},
		{
			name: "rejected_by_a_plugin_s_block_with_reason",
			setup: func(t *testing.T, r *actions.Registry) {
				register(t, r, "A", ok)
				p := r.Plugin("maintenance")
				p.BlockAction("A", nil, actions.Reason(errors.New("until 02:00")))
				if _, err := p.Install(); err != nil {
					t.Fatal(err)
				}
			},
			outcome: actions.StatusRejected,
			attrs: map[attribute.Key]string{
				otelactions.PluginKey:      "maintenance",
				otelactions.BlockReasonKey: "until 02:00",
				otelactions.ErrorKey:       `actions: A: action blocked (plugin "maintenance"): until 02:00`,
			},
			absent: []attribute.Key{otelactions.AbortReasonKey, otelactions.ListenerKey},
		},
		{
			name: "aborted_by_a_plugin_s_listener",
			setup: func(t *testing.T, r *actions.Registry) {
				register(t, r, "A", ok)
				p := r.Plugin("limits")
				p.AddListener("beforeA", func(context.Context, any) error { return actions.Abort(errDeclined) }, actions.Named("rate"))
				if _, err := p.Install(); err != nil {
					t.Fatal(err)
				}
			},
			outcome: actions.StatusAborted,
			attrs: map[attribute.Key]string{
				otelactions.ListenerKey:    "rate",
				otelactions.PluginKey:      "limits",
				otelactions.AbortReasonKey: "agent declined",
			},
			absent: []attribute.Key{otelactions.BlockReasonKey},
		},
		{
			name: "cancelled_in_body",
			setup: func(t *testing.T, r *actions.Registry) {
				register(t, r, "A", func(ctx context.Context, _ any) (any, error) {
					cancelTest() // the caller's context ends while the body runs
					return nil, ctx.Err()
				})
			},
			ctx:     cancellable,
			outcome: actions.StatusCancelled,
			attrs:   map[attribute.Key]string{otelactions.StageKey: "body", "error.type": "cancelled", otelactions.ErrorKey: "actions: A: stopped in body: context canceled"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.registry()
			tt.setup(t, r)
			action, ctx := tt.action, context.Background()
			if action == "" {
				action = "A"
			}
			if tt.ctx != nil {
				ctx = tt.ctx()
			}

			_, err := r.Call(ctx, action, "payload")
			require.Equal(t, tt.outcome, actions.StatusOf(err), "precondition: the outcome is %v: %v", tt.outcome, err)

			s := h.only(t)
			a := attrs(s.Attributes())
			assert.Equal(t, action, s.Name())
			assert.Equal(t, trace.SpanKindInternal, s.SpanKind())
			assert.Equal(t, otelactions.ScopeName, s.InstrumentationScope().Name)
			assert.Equal(t, action, a[otelactions.ActionKey].AsString())
			assert.Equal(t, tt.outcome.String(), a[otelactions.OutcomeKey].AsString())
			for k, want := range tt.attrs {
				assert.Equal(t, want, a[k].AsString(), "attribute %s", k)
			}
			for _, k := range tt.absent {
				assert.NotContains(t, a, k)
			}
			require.Len(t, s.Events(), len(tt.events))
			for i, want := range tt.events {
				ev := s.Events()[i]
				ea := attrs(ev.Attributes)
				assert.Equal(t, "exception", ev.Name)
				assert.Equal(t, want.typ, ea["exception.type"].AsString())
				assert.Equal(t, want.msg, ea["exception.message"].AsString())
				assert.Equal(t, want.stage, ea[otelactions.StageKey].AsString())
				assert.Equal(t, want.listener, ea[otelactions.ListenerKey].AsString())
				if want.stack == "" {
					assert.NotContains(t, ea, attribute.Key("exception.stacktrace"))
					continue
				}
				stack := ea["exception.stacktrace"].AsString()
				assert.Contains(t, stack, want.stack, "the panic's stack")
				assert.NotContains(t, stack, "InvocationEnd", "not the stack of the observer")
			}
		})
	}
}

// cancelTest cancels the context cancellable last returned.
var cancelTest context.CancelFunc

func cancellable() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancelTest = cancel
	return ctx
}

// An invocation that shared another's outcome says so; the one that ran does
// not.
func TestSpans_shared(t *testing.T) {
	// The sharer must join while the leader's body runs: it is released once
	// the sharer has asked for its key, and the attempt is repeated in the
	// rare case the sharer had not joined yet.
	for attempt := 0; attempt < 100; attempt++ {
		h := newHarness(t)
		r := h.registry()
		release, keyed := make(chan struct{}), make(chan struct{}, 2)
		register(t, r, "A", func(context.Context, any) (any, error) {
			<-release
			return "done", nil
		}, actions.Deduplicate(func(p any) string {
			keyed <- struct{}{}
			return fmt.Sprint(p)
		}, actions.SharePending))

		leader := r.InvokeAction(context.Background(), "A", "k")
		<-keyed
		for r.InFlight("A") == 0 { // the leader is past its key
			runtime.Gosched()
		}
		sharer := r.InvokeAction(context.Background(), "A", "k")
		<-keyed
		time.Sleep(time.Millisecond)
		close(release)
		for _, f := range []*actions.Future[any]{leader, sharer} {
			res, err := f.Wait(context.Background())
			require.NoError(t, err)
			require.Equal(t, "done", res)
		}

		spans := h.ended()
		require.Len(t, spans, 2)
		var shared []bool
		for _, s := range spans {
			v, ok := attrs(s.Attributes())[otelactions.SharedKey]
			shared = append(shared, ok && v.AsBool())
			assert.Equal(t, "ok", attrs(s.Attributes())[otelactions.OutcomeKey].AsString())
		}
		if !shared[0] && !shared[1] {
			continue // the sharer came too late: it ran on its own
		}
		assert.ElementsMatch(t, []bool{false, true}, shared, "the sharer shared, the leader did not")
		return
	}
	t.Fatal("the sharer never shared the leader's outcome")
}

// sleepy is an observer that takes a second to see each begin and each end.
type sleepy struct{}

func (sleepy) InvocationBegin(ctx context.Context, _ actions.Invocation) context.Context {
	time.Sleep(time.Second)
	return ctx
}

func (sleepy) InvocationEnd(context.Context, actions.Invocation, actions.Outcome) {
	time.Sleep(time.Second)
}

// A span lasts what the invocation did, from its start to its start plus
// its duration, however long the other observers take around it.
func TestSpans_timing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		r := actions.New(actions.WithObserver(sleepy{}), actions.WithObserver(h.obs), actions.WithObserver(sleepy{}))
		register(t, r, "A", func(context.Context, any) (any, error) {
			time.Sleep(3 * time.Second)
			return nil, nil
		})
		start := time.Now()

		_, err := r.Call(context.Background(), "A", nil)
		require.NoError(t, err)

		s := h.only(t)
		assert.True(t, s.StartTime().Equal(start), "starts when the invocation does: %v, want %v", s.StartTime(), start)
		assert.Equal(t, 5*time.Second, s.EndTime().Sub(s.StartTime()), "two begins and the body, not the ends")
	})
}

// outcomeCases are invocations ending with each status, for tests that
// check what depends on the status alone.
var outcomeCases = []struct {
	status actions.Status
	invoke func(t *testing.T, r *actions.Registry)
}{
	{actions.StatusOK, func(t *testing.T, r *actions.Registry) {
		register(t, r, "A", ok)
		_, _ = r.Call(context.Background(), "A", nil)
	}},
	{actions.StatusAborted, func(t *testing.T, r *actions.Registry) {
		register(t, r, "A", ok)
		r.AddListener("beforeA", func(context.Context, any) error { return actions.Abort(errDeclined) })
		_, _ = r.Call(context.Background(), "A", nil)
	}},
	{actions.StatusFailed, func(t *testing.T, r *actions.Registry) {
		register(t, r, "A", func(context.Context, any) (any, error) { return nil, errCRMDown })
		_, _ = r.Call(context.Background(), "A", nil)
	}},
	{actions.StatusRejected, func(t *testing.T, r *actions.Registry) {
		_, _ = r.Call(context.Background(), "A", nil)
	}},
	{actions.StatusCancelled, func(t *testing.T, r *actions.Registry) {
		register(t, r, "A", ok)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _ = r.Call(ctx, "A", nil)
	}},
}

// Only failed invocations have status Error by default; WithErrorStatusFor
// adds others, and options add up.
func TestSpans_status(t *testing.T) {
	tests := []struct {
		name  string
		opts  []otelactions.Option
		error []actions.Status // the statuses whose spans have status Error
	}{
		{"default", nil, []actions.Status{actions.StatusFailed}},
		{"aborted_and_rejected", []otelactions.Option{otelactions.WithErrorStatusFor(actions.StatusAborted, actions.StatusRejected)},
			[]actions.Status{actions.StatusAborted, actions.StatusFailed, actions.StatusRejected}},
		{"options_add_up", []otelactions.Option{otelactions.WithErrorStatusFor(actions.StatusCancelled), otelactions.WithErrorStatusFor(actions.StatusAborted)},
			[]actions.Status{actions.StatusAborted, actions.StatusFailed, actions.StatusCancelled}},
		{"none_given", []otelactions.Option{otelactions.WithErrorStatusFor()}, []actions.Status{actions.StatusFailed}},
	}
	for _, tt := range tests {
		for _, oc := range outcomeCases {
			t.Run(tt.name+"/"+oc.status.String(), func(t *testing.T) {
				h := newHarness(t, tt.opts...)
				oc.invoke(t, h.registry())

				s := h.only(t)
				require.Equal(t, oc.status.String(), attrs(s.Attributes())[otelactions.OutcomeKey].AsString(), "precondition")
				if !contains(tt.error, oc.status) {
					assert.Equal(t, sdktrace.Status{Code: codes.Unset}, s.Status())
					return
				}
				assert.Equal(t, codes.Error, s.Status().Code)
				assert.Equal(t, attrs(s.Attributes())[otelactions.ErrorKey].AsString(), s.Status().Description, "the error's message")
				assert.NotEmpty(t, s.Status().Description)
			})
		}
	}
}

func contains(list []actions.Status, st actions.Status) bool {
	for _, s := range list {
		if s == st {
			return true
		}
	}
	return false
}

// WithErrorStatusFor refuses what is not an error outcome.
func TestWithErrorStatusFor_panics(t *testing.T) {
	for _, st := range []actions.Status{actions.StatusOK, actions.StatusCancelled + 1} {
		t.Run(st.String(), func(t *testing.T) {
			assert.PanicsWithValue(t, fmt.Sprintf("otelactions: WithErrorStatusFor: %v is not an outcome that can be an error", st),
				func() { otelactions.WithErrorStatusFor(actions.StatusFailed, st) })
		})
	}
}

// stringer has a String method, which %v uses.
type stringer struct{ name string }

func (s stringer) String() string { return "task " + s.name }

// Payloads and results are recorded only with WithPayloads(true).
func TestSpans_payloads(t *testing.T) {
	tests := []struct {
		name    string
		opts    []otelactions.Option
		fail    bool
		payload string // "" for absent
		result  string // "" for absent
	}{
		{name: "default_off", payload: "", result: ""},
		{name: "off", opts: []otelactions.Option{otelactions.WithPayloads(false)}},
		{name: "on", opts: []otelactions.Option{otelactions.WithPayloads(true)}, payload: "task WT001", result: "assigned"},
		{name: "on_failed_has_no_result", opts: []otelactions.Option{otelactions.WithPayloads(true)}, fail: true, payload: "task WT001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts...)
			r := h.registry()
			register(t, r, "AcceptTask", func(context.Context, any) (any, error) {
				if tt.fail {
					return nil, errCRMDown
				}
				return "assigned", nil
			})

			_, _ = r.Call(context.Background(), "AcceptTask", stringer{"WT001"})

			a := attrs(h.only(t).Attributes())
			for k, want := range map[attribute.Key]string{otelactions.PayloadKey: tt.payload, otelactions.ResultKey: tt.result} {
				if want == "" {
					assert.NotContains(t, a, k)
				} else {
					assert.Equal(t, want, a[k].AsString(), "attribute %s", k)
				}
			}
		})
	}
}

// Several observers nest their contexts; each otelactions observer ends its
// own spans, and the spans of the second are children of the first's.
func TestSpans_composedObservers(t *testing.T) {
	first, second := newHarness(t), newHarness(t)
	r := actions.New(actions.WithObserver(first.obs), actions.WithObserver(second.obs))
	register(t, r, "A", func(ctx context.Context, _ any) (any, error) { return r.Call(ctx, "B", nil) })
	register(t, r, "B", ok)

	_, err := r.Call(context.Background(), "A", nil)
	require.NoError(t, err)

	require.Len(t, first.rec.Started(), 2)
	require.Len(t, second.rec.Started(), 2)
	require.Len(t, first.ended(), 2, "every span of the first observer ended")
	require.Len(t, second.ended(), 2, "every span of the second observer ended")
	for _, name := range []string{"A", "B"} {
		f, s := first.byName(name), second.byName(name)
		require.Len(t, f, 1)
		require.Len(t, s, 1)
		assert.Equal(t, f[0].SpanContext(), s[0].Parent(), "%s: the second observer's span is a child of the first's", name)
	}
	assert.Equal(t, second.byName("A")[0].SpanContext(), first.byName("B")[0].Parent(), "B nests in A's innermost span")
}
