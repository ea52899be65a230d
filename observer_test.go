package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panickyObserver panics in the method named by where.
type panickyObserver struct{ where string }

func (o panickyObserver) maybePanic(method string) {
	if o.where == method {
		panic("observer " + method)
	}
}

func (o panickyObserver) InvocationBegin(ctx context.Context, _ Invocation) context.Context {
	o.maybePanic("begin")
	return ctx
}
func (o panickyObserver) InvocationEnd(context.Context, Invocation, Outcome) { o.maybePanic("end") }
func (o panickyObserver) InFlightBegin(context.Context, Invocation)          { o.maybePanic("inflight-begin") }
func (o panickyObserver) InFlightEnd(context.Context, Invocation)            { o.maybePanic("inflight-end") }

func TestObserver(t *testing.T) {
	t.Run("Observability_each_invocation_seen_once_including_rejections", func(t *testing.T) {
		errBoom := errors.New("boom")
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		okBody := func(context.Context, any) (any, error) { return "ok", nil }
		for _, tc := range []struct {
			name string
			// setup registers Probe on r; the returned func, if any, runs
			// after the probe invocation.
			setup       func(t *testing.T, r *Registry) func()
			ctx         context.Context
			wantRes     any
			wantErr     error
			wantAborted bool
		}{
			{name: "success", setup: func(t *testing.T, r *Registry) func() {
				mustRegister(t, r, "Probe", okBody)
				return nil
			}, wantRes: "ok"},
			{name: "step0_ctx_done", ctx: cancelled, setup: func(t *testing.T, r *Registry) func() {
				mustRegister(t, r, "Probe", okBody)
				return nil
			}, wantErr: context.Canceled},
			{name: "step1_not_found", setup: func(*testing.T, *Registry) func() { return nil }, wantErr: ErrActionNotFound},
			{name: "step2_closed", setup: func(t *testing.T, r *Registry) func() {
				mustRegister(t, r, "Probe", okBody)
				require.NoError(t, r.Close(context.Background()))
				return nil
			}, wantErr: ErrClosed},
			{name: "step3_blocked", setup: func(t *testing.T, r *Registry) func() {
				mustRegister(t, r, "Probe", okBody)
				r.BlockAction("Probe", nil)
				return nil
			}, wantErr: ErrBlocked},
			{name: "step4_pending", setup: func(t *testing.T, r *Registry) func() {
				started, release := make(chan struct{}), make(chan struct{})
				mustRegister(t, r, "Probe", func(_ context.Context, p any) (any, error) {
					if p == "leader" {
						close(started)
						<-release
					}
					return "ok", nil
				}, Deduplicate(func(any) string { return "same" }, RejectPending))
				leader := r.InvokeAction(context.Background(), "Probe", "leader")
				<-started
				return func() {
					close(release)
					_, err := leader.Result()
					assert.NoError(t, err)
				}
			}, wantErr: ErrPending},
			{name: "step5_update_error", setup: func(t *testing.T, r *Registry) func() {
				mustRegister(t, r, "Probe", okBody, UpdatePayload(func(context.Context, any) (any, error) { return nil, errBoom }))
				return nil
			}, wantErr: errBoom},
			{name: "payload_type", setup: func(t *testing.T, r *Registry) func() {
				_, err := Typed[int, string](r, "Probe").Register(func(context.Context, int) (string, error) { return "ok", nil })
				require.NoError(t, err)
				return nil
			}, wantErr: ErrPayloadType},
			{name: "aborted", setup: func(t *testing.T, r *Registry) func() {
				mustRegister(t, r, "Probe", okBody)
				r.AddListener("beforeProbe", func(context.Context, any) error { return Abort(nil) })
				return nil
			}, wantErr: ErrAborted, wantAborted: true},
			{name: "body_error", setup: func(t *testing.T, r *Registry) func() {
				mustRegister(t, r, "Probe", func(context.Context, any) (any, error) { return nil, errBoom })
				return nil
			}, wantErr: errBoom},
		} {
			for _, way := range invokeWays {
				t.Run(tc.name+"/"+way.name, func(t *testing.T) {
					obs := &spyObserver{}
					r := New(WithObserver(obs))
					after := tc.setup(t, r)
					ctx := tc.ctx
					if ctx == nil {
						ctx = context.Background()
					}
					res, err := way.run(ctx, r, "Probe", "probe")
					if after != nil {
						after()
					}
					assert.Equal(t, tc.wantRes, res)
					if tc.wantErr == nil {
						require.NoError(t, err)
					} else {
						require.ErrorIs(t, err, tc.wantErr)
					}

					require.Equal(t, "begin end", obs.kinds("probe"))
					evs := obs.where(func(ev obsEvent) bool { return ev.inv.Payload == "probe" })
					begin, end := evs[0], evs[1]
					assert.Equal(t, begin.inv, end.inv)
					assert.Equal(t, "Probe", end.inv.Action)
					assert.NotZero(t, end.inv.ID)
					assert.Zero(t, end.inv.ParentID)
					assert.Equal(t, 1, end.inv.Depth)
					assert.Equal(t, res, end.out.Result)
					assert.Equal(t, err, end.out.Err, "the observer sees the error the caller gets")
					assert.Equal(t, tc.wantAborted, end.out.Aborted)
					assert.False(t, end.out.Shared)
					assert.GreaterOrEqual(t, end.out.Duration, time.Duration(0))
				})
			}
		}
	})

	t.Run("Observability_duration_and_start", func(t *testing.T) {
		// The bubble's clock only moves while everything sleeps, so the
		// duration is exact.
		synctest.Test(t, func(t *testing.T) {
			obs := &spyObserver{}
			r := New(WithObserver(obs))
			mustRegister(t, r, "Slow", func(context.Context, any) (any, error) {
				time.Sleep(3 * time.Second)
				return "ok", nil
			})
			r.AddListener("beforeSlow", func(context.Context, any) error {
				time.Sleep(time.Second)
				return nil
			})
			start := time.Now()
			_, err := r.InvokeAction(context.Background(), "Slow", "slow").Result()
			require.NoError(t, err)
			_, err = r.Call(context.Background(), "Missing", "missing")
			require.ErrorIs(t, err, ErrActionNotFound)

			slow := obs.ends("Slow")
			require.Len(t, slow, 1)
			assert.Equal(t, start, slow[0].inv.Start)
			assert.Equal(t, 4*time.Second, slow[0].out.Duration)
			missing := obs.ends("Missing")
			require.Len(t, missing, 1)
			assert.Zero(t, missing[0].out.Duration, "a rejection ends at once")
		})
	})

	t.Run("Observability_parent_and_depth_of_nested_invocations", func(t *testing.T) {
		obs := &spyObserver{}
		r := New(WithObserver(obs))
		mustRegister(t, r, "Leaf", func(context.Context, any) (any, error) { return "leaf", nil })
		mustRegister(t, r, "Middle", func(ctx context.Context, _ any) (any, error) {
			return r.Call(ctx, "Leaf", "leaf-of-middle")
		})
		mustRegister(t, r, "Outer", func(ctx context.Context, _ any) (any, error) {
			if _, err := r.Call(ctx, "Middle", "middle"); err != nil {
				return nil, err
			}
			_, err := r.InvokeAction(ctx, "Leaf", "leaf-of-outer").Result()
			assert.NoError(t, err)
			_, err = r.Call(ctx, "Missing", "missing")
			assert.ErrorIs(t, err, ErrActionNotFound)
			_, err = r.Call(context.Background(), "Leaf", "top-level")
			return "outer", err
		})
		r.AddListener("afterOuter", func(ctx context.Context, _ any) error {
			_, err := r.InvokeAction(ctx, "Leaf", "leaf-of-after").Result()
			return err
		})
		_, err := r.Call(context.Background(), "Outer", "outer")
		require.NoError(t, err)

		byPayload := map[any]obsEvent{}
		ids := map[uint64]bool{}
		for _, ev := range obs.where(func(ev obsEvent) bool { return ev.kind == "end" }) {
			byPayload[ev.inv.Payload] = ev
			assert.NotZero(t, ev.inv.ID)
			assert.False(t, ids[ev.inv.ID], "id %d used twice", ev.inv.ID)
			ids[ev.inv.ID] = true
		}
		require.Len(t, byPayload, 7)
		outer, middle := byPayload["outer"].inv, byPayload["middle"].inv
		for _, tc := range []struct {
			payload    string
			wantParent uint64
			wantDepth  int
		}{
			{"outer", 0, 1},
			{"middle", outer.ID, 2},
			{"leaf-of-middle", middle.ID, 3},
			{"leaf-of-outer", outer.ID, 2},
			{"missing", outer.ID, 2},
			{"top-level", 0, 1},
			{"leaf-of-after", outer.ID, 2},
		} {
			inv := byPayload[tc.payload].inv
			assert.Equal(t, tc.wantParent, inv.ParentID, tc.payload)
			assert.Equal(t, tc.wantDepth, inv.Depth, tc.payload)
		}
		assert.ErrorIs(t, byPayload["missing"].out.Err, ErrActionNotFound)
	})

	t.Run("Observability_begin_ctx_reaches_every_stage", func(t *testing.T) {
		type spanKey struct{}
		type callerKey struct{}
		for _, concurrent := range []bool{false, true} {
			for _, way := range invokeWays {
				t.Run(fmt.Sprintf("concurrent=%v/%s", concurrent, way.name), func(t *testing.T) {
					obs := &spyObserver{beginCtx: func(ctx context.Context, inv Invocation) context.Context {
						return context.WithValue(ctx, spanKey{}, inv.ID)
					}}
					r := New(WithObserver(inFlightSpy{obs}))
					var rec recorder
					see := func(stage string, ctx context.Context) {
						rec.add(fmt.Sprintf("%s:%v:%v", stage, ctx.Value(spanKey{}), ctx.Value(callerKey{})))
					}
					registerEveryStage(t, r, concurrent, see)
					ctx := context.WithValue(context.Background(), callerKey{}, "caller")
					_, err := way.run(ctx, r, "Act", nil)
					require.NoError(t, err)

					ends := obs.ends("Act")
					require.Len(t, ends, 1)
					id := ends[0].inv.ID
					var want []string
					for _, stage := range []string{"afterAct0", "afterAct1", "beforeAct0", "beforeAct1", "body", "replacement", "update"} {
						want = append(want, fmt.Sprintf("%s:%d:caller", stage, id))
					}
					assert.Equal(t, strings.Join(want, " "), rec.sorted())
					for _, ev := range obs.where(func(ev obsEvent) bool { return ev.kind != "begin" }) {
						assert.Equal(t, id, ev.ctx.Value(spanKey{}), ev.kind)
					}
				})
			}
		}
	})

	t.Run("Observability_observer_panic_goes_to_error_handler", func(t *testing.T) {
		errBoom := errors.New("boom")
		for _, where := range []string{"begin", "end", "inflight-begin", "inflight-end"} {
			for _, sc := range []struct {
				name      string
				setup     func(r *Registry, rec *recorder)
				wantRes   any
				wantErr   error
				wantStage Stage
				wantTrace string
			}{
				{"success", func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "ok"))
				}, "ok", nil, StageNone, "before body after"},
				{"body_error", func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
						rec.add("body")
						return nil, errBoom
					})
				}, nil, errBoom, StageBody, "before body"},
				{"aborted", func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "ok"))
					r.AddListener("beforeAct", func(context.Context, any) error { return Abort(errBoom) }, Priority(-1))
				}, nil, ErrAborted, StageBefore, "before"},
			} {
				for _, way := range invokeWays {
					t.Run(where+"/"+sc.name+"/"+way.name, func(t *testing.T) {
						var sink errorSink
						r := New(WithObserver(panickyObserver{where}), WithErrorHandler(sink.handle))
						var rec recorder
						r.AddListener("beforeAct", rec.listen("before", nil))
						r.AddListener("afterAct", rec.listen("after", nil))
						sc.setup(r, &rec)
						res, err := way.run(context.Background(), r, "Act", nil)
						assert.Equal(t, sc.wantRes, res)
						if sc.wantErr == nil {
							assert.NoError(t, err)
						} else {
							assert.ErrorIs(t, err, sc.wantErr)
							assert.NotErrorIs(t, err, ErrPanicked)
							var e *Error
							require.ErrorAs(t, err, &e)
							assert.Equal(t, sc.wantStage, e.Stage)
						}
						assert.Equal(t, sc.wantTrace, rec.trace())

						errs := sink.all()
						require.Len(t, errs, 1)
						assert.ErrorIs(t, errs[0], ErrFailed)
						var e *Error
						require.ErrorAs(t, errs[0], &e)
						assert.Equal(t, StageObserver, e.Stage)
						assert.Equal(t, "Act", e.Action)
						var pe *PanicError
						require.ErrorAs(t, errs[0], &pe)
						assert.Equal(t, "observer "+where, pe.Value)
					})
				}
			}
		}
	})

	t.Run("Observability_observer_panic_on_rejection", func(t *testing.T) {
		var sink errorSink
		r := New(WithObserver(panickyObserver{"end"}), WithErrorHandler(sink.handle))
		fut := r.InvokeAction(context.Background(), "Missing", nil)
		_, err := fut.Result()
		assert.ErrorIs(t, err, ErrActionNotFound)
		require.Len(t, sink.all(), 1)
		assert.ErrorIs(t, sink.all()[0], ErrPanicked)
	})

	t.Run("Observability_shared_invocations_are_seen", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			obs := &spyObserver{}
			r := New(WithObserver(inFlightSpy{obs}))
			release := make(chan struct{})
			mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
				<-release
				return "shared-result", nil
			}, Deduplicate(func(p any) string { return "same" }, SharePending))
			leader := r.InvokeAction(context.Background(), "Act", "leader")
			synctest.Wait()
			sharer := r.InvokeAction(context.Background(), "Act", "sharer")
			synctest.Wait()
			close(release)
			for _, f := range []*Future[any]{leader, sharer} {
				res, err := f.Result()
				require.NoError(t, err)
				assert.Equal(t, "shared-result", res)
			}
			leaderKinds := strings.Fields(obs.kinds("leader"))
			require.Len(t, leaderKinds, 4)
			assert.Equal(t, []string{"begin", "inflight-begin"}, leaderKinds[:2])
			assert.ElementsMatch(t, []string{"end", "inflight-end"}, leaderKinds[2:])
			assert.Equal(t, "begin end", obs.kinds("sharer"), "a sharer has no in-flight window")
			for _, ev := range obs.ends("Act") {
				assert.Equal(t, ev.inv.Payload == "sharer", ev.out.Shared)
				assert.Equal(t, "shared-result", ev.out.Result)
			}
		})
	})
}

func TestSlogObserver(t *testing.T) {
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	newLogger := func(buf *bytes.Buffer, level slog.Level) *slog.Logger {
		return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level, ReplaceAttr: noTime}))
	}
	setup := func(r *Registry) {
		mustRegister(t, r, "Ok", func(context.Context, any) (any, error) { return "ok", nil })
		mustRegister(t, r, "Stop", func(context.Context, any) (any, error) { return "ok", nil })
		r.AddListener("beforeStop", func(context.Context, any) error { return Abort(errors.New("declined")) })
		mustRegister(t, r, "Fail", func(context.Context, any) (any, error) { return nil, errors.New("boom") })
		mustRegister(t, r, "Outer", func(ctx context.Context, _ any) (any, error) { return r.Call(ctx, "Ok", nil) })
	}

	t.Run("Observability_records_per_outcome", func(t *testing.T) {
		var buf bytes.Buffer
		r := New(WithObserver(SlogObserver(newLogger(&buf, slog.LevelDebug))))
		setup(r)
		for _, tc := range []struct {
			action string
			want   []string
		}{
			{"Ok", []string{
				`level=DEBUG msg="action begin" action=Ok id=1 depth=1`,
				`level=DEBUG msg="action done" action=Ok id=1 depth=1 duration=`,
			}},
			{"Stop", []string{
				`level=DEBUG msg="action begin" action=Stop id=2 depth=1`,
				`level=INFO msg="action aborted" action=Stop id=2 depth=1 duration=`,
				`declined`,
			}},
			{"Fail", []string{
				`level=WARN msg="action failed" action=Fail id=3 depth=1 duration=`,
				`err="actions: Fail: action failed in body: boom"`,
			}},
			{"Missing", []string{
				`level=INFO msg="action rejected" action=Missing id=4 depth=1 duration=`,
				`err="actions: Missing: action not found"`,
			}},
			{"Outer", []string{
				`level=DEBUG msg="action begin" action=Outer id=5 depth=1`,
				`level=DEBUG msg="action begin" action=Ok id=6 parent=5 depth=2`,
				`level=DEBUG msg="action done" action=Ok id=6 parent=5 depth=2 duration=`,
				`level=DEBUG msg="action done" action=Outer id=5 depth=1 duration=`,
			}},
		} {
			buf.Reset()
			_, _ = r.Call(context.Background(), tc.action, nil)
			for _, want := range tc.want {
				assert.Contains(t, buf.String(), want, tc.action)
			}
		}
	})

	t.Run("Observability_levels", func(t *testing.T) {
		var buf bytes.Buffer
		r := New(WithObserver(SlogObserver(newLogger(&buf, slog.LevelInfo))))
		setup(r)
		_, err := r.Call(context.Background(), "Ok", nil)
		require.NoError(t, err)
		assert.Empty(t, buf.String(), "success is logged at debug")
		_, err = r.Call(context.Background(), "Stop", nil)
		require.ErrorIs(t, err, ErrAborted)
		assert.Contains(t, buf.String(), `level=INFO msg="action aborted" action=Stop`)
	})

	t.Run("Observability_shared", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var buf bytes.Buffer
			r := New(WithObserver(SlogObserver(newLogger(&buf, slog.LevelDebug))))
			release := make(chan struct{})
			mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
				<-release
				return "ok", nil
			}, Deduplicate(func(any) string { return "k" }, SharePending))
			leader := r.InvokeAction(context.Background(), "Act", nil)
			synctest.Wait()
			sharer := r.InvokeAction(context.Background(), "Act", nil)
			synctest.Wait()
			close(release)
			_, err := leader.Result()
			require.NoError(t, err)
			_, err = sharer.Result()
			require.NoError(t, err)
			assert.Equal(t, 1, strings.Count(buf.String(), "shared=true"), buf.String())
		})
	})

	t.Run("Observability_nil_logger_uses_default", func(t *testing.T) {
		var buf bytes.Buffer
		old := slog.Default()
		slog.SetDefault(newLogger(&buf, slog.LevelDebug))
		t.Cleanup(func() { slog.SetDefault(old) })
		r := New(WithObserver(SlogObserver(nil)))
		mustRegister(t, r, "SlogDefaultProbe", func(context.Context, any) (any, error) { return "ok", nil })
		_, err := r.Call(context.Background(), "SlogDefaultProbe", nil)
		require.NoError(t, err)
		assert.Contains(t, buf.String(), `msg="action done" action=SlogDefaultProbe`)
	})
}

// tagObserver records its calls under a tag, adds its tag to the context's
// chain at begin, and panics in the methods named by panics.
type tagObserver struct {
	tag    string
	rec    *recorder
	panics string
}

type tagChainKey struct{}

func (o tagObserver) hit(method string) {
	o.rec.add(o.tag + "." + method)
	if slices.Contains(strings.Fields(o.panics), method) {
		panic(o.tag + " " + method)
	}
}

func (o tagObserver) InvocationBegin(ctx context.Context, _ Invocation) context.Context {
	chain, _ := ctx.Value(tagChainKey{}).(string)
	o.hit("begin")
	return context.WithValue(ctx, tagChainKey{}, chain+o.tag)
}

func (o tagObserver) InvocationEnd(context.Context, Invocation, Outcome) { o.hit("end") }
func (o tagObserver) InFlightBegin(context.Context, Invocation)          { o.hit("in") }
func (o tagObserver) InFlightEnd(context.Context, Invocation)            { o.hit("out") }

// plainObserver implements Observer only, not InFlightObserver.
type plainObserver struct{ o tagObserver }

func (p plainObserver) InvocationBegin(ctx context.Context, inv Invocation) context.Context {
	return p.o.InvocationBegin(ctx, inv)
}
func (p plainObserver) InvocationEnd(ctx context.Context, inv Invocation, out Outcome) {
	p.o.InvocationEnd(ctx, inv, out)
}

func TestObserverSeveral(t *testing.T) {
	for _, way := range invokeWays {
		t.Run("Observability_in_order_then_unwound/"+way.name, func(t *testing.T) {
			var rec recorder
			r := New(
				WithObserver(tagObserver{tag: "a", rec: &rec}),
				WithObserver(plainObserver{tagObserver{tag: "b", rec: &rec}}),
				WithObserver(tagObserver{tag: "c", rec: &rec}),
			)
			mustRegister(t, r, "A", func(ctx context.Context, _ any) (any, error) {
				rec.add("body:" + ctx.Value(tagChainKey{}).(string))
				return "ok", nil
			})
			res, err := way.run(context.Background(), r, "A", nil)
			require.NoError(t, err)
			assert.Equal(t, "ok", res)
			// b has no in-flight methods; each begin's ctx feeds the next.
			assert.Equal(t, "a.begin b.begin c.begin a.in c.in body:abc c.out a.out c.end b.end a.end", rec.trace())
		})
	}

	t.Run("Observability_a_panicking_observer_does_not_stop_the_others", func(t *testing.T) {
		var rec recorder
		var sink errorSink
		r := New(
			WithErrorHandler(sink.handle),
			WithObserver(tagObserver{tag: "a", rec: &rec, panics: "begin end"}),
			WithObserver(tagObserver{tag: "b", rec: &rec, panics: "in out"}),
		)
		mustRegister(t, r, "A", func(context.Context, any) (any, error) { rec.add("body"); return "ok", nil })
		res, err := r.Call(context.Background(), "A", nil)
		require.NoError(t, err, "an observer's panic never changes the outcome")
		assert.Equal(t, "ok", res)
		assert.Equal(t, "a.begin b.begin a.in b.in body b.out a.out b.end a.end", rec.trace())
		handled := sink.all()
		require.Len(t, handled, 4)
		for _, err := range handled {
			assert.ErrorIs(t, err, ErrPanicked)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, StageObserver, e.Stage)
		}
	})
}
