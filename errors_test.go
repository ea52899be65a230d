package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// abNotConfirmed is a reason of a type of the caller's own, to be reached
// with errors.As.
type abNotConfirmed struct{ agent string }

func (e *abNotConfirmed) Error() string { return "agent " + e.agent + " did not confirm" }

// abTask is the seed example's payload.
type abTask struct {
	sid       string
	confirmed bool
}

// abPanic panics with v. Being a named function, it shows in a stack
// recorded where the panic happened, and nowhere else.
func abPanic(v any) { panic(v) }

// abMessage checks the message rules of the package docs' "Aborting and
// errors": prefixed "actions: ", naming action, lowercase apart from the
// names it quotes (the action's, and those in keep).
func abMessage(t *testing.T, err error, action string, keep ...string) {
	t.Helper()
	for line := range strings.SplitSeq(err.Error(), "\n") {
		assert.True(t, strings.HasPrefix(line, "actions: "), "message %q lacks the prefix", line)
		assert.Contains(t, line, action, "message %q does not name the action", line)
		rest := strings.ReplaceAll(line, action, "")
		for _, k := range keep {
			rest = strings.ReplaceAll(rest, k, "")
		}
		assert.Equal(t, strings.ToLower(rest), rest, "message %q is not lowercase", line)
	}
}

func TestAbort(t *testing.T) {
	ctx := context.Background()

	t.Run("Aborting and errors: seed example: abort unless confirmed", func(t *testing.T) {
		var rec recorder
		r := New()
		r.AddListener("beforeAcceptTask", func(_ context.Context, p any) error {
			if task := p.(*abTask); !task.confirmed {
				return Abort(&abNotConfirmed{agent: "ana"})
			}
			return nil
		}, Named("confirm"))
		mustRegister(t, r, "AcceptTask", func(_ context.Context, p any) (any, error) {
			rec.add("accepted " + p.(*abTask).sid)
			return "accepted", nil
		})
		res, err := r.Call(ctx, "AcceptTask", &abTask{sid: "WT1", confirmed: true})
		require.NoError(t, err)
		assert.Equal(t, "accepted", res)

		res, err = r.Call(ctx, "AcceptTask", &abTask{sid: "WT2"})
		assert.Nil(t, res)
		assert.ErrorIs(t, err, ErrAborted)
		var reason *abNotConfirmed
		if assert.ErrorAs(t, err, &reason) {
			assert.Equal(t, "ana", reason.agent)
		}
		assert.Equal(t, "accepted WT1", rec.trace())
	})

	t.Run("Aborting and errors: abort error", func(t *testing.T) {
		notNow := errors.New("not now")
		custom := &abNotConfirmed{agent: "ana"}
		wrapped := fmt.Errorf("agent busy: %w", ErrAborted)
		cases := []struct {
			name     string
			ret      error  // what the listener returns
			reason   error  // the reason the error carries, nil for none
			listener string // the listener's name, "" for none
		}{
			{"without reason", Abort(nil), nil, ""},
			{"with reason", Abort(notNow), notNow, ""},
			{"with reason of own type", Abort(custom), custom, ""},
			{"named listener", Abort(notNow), notNow, "confirm"},
			{"named listener without reason", Abort(nil), nil, "confirm"},
			{"any error matching ErrAborted", wrapped, wrapped, "busy"},
		}
		for _, c := range cases {
			for _, way := range invokeWays {
				t.Run(c.name+"/"+way.name, func(t *testing.T) {
					var rec recorder
					r := New()
					var opts []ListenerOption
					if c.listener != "" {
						opts = append(opts, Named(c.listener))
					}
					r.AddListener("beforeAcceptTask", func(context.Context, any) error {
						rec.add("aborter")
						return c.ret
					}, opts...)
					r.AddListener("afterAcceptTask", rec.listen("after", nil))
					for _, name := range []string{"r1", "r2"} {
						r.ReplaceAction("AcceptTask", func(ctx context.Context, p any, original Body) (any, error) {
							rec.add(name)
							return original(ctx, p)
						})
					}
					mustRegister(t, r, "AcceptTask", rec.body("body", "result"))

					res, err := way.run(ctx, r, "AcceptTask", nil)
					assert.Nil(t, res)
					require.Error(t, err)
					assert.Equal(t, "aborter", rec.trace(), "body, replacements and after-listeners are skipped")
					assert.ErrorIs(t, err, ErrAborted)
					assert.NotErrorIs(t, err, ErrFailed)
					var e *Error
					require.ErrorAs(t, err, &e)
					assert.Equal(t, "AcceptTask", e.Action)
					assert.Equal(t, ErrAborted, e.Kind)
					assert.Equal(t, StageBefore, e.Stage)
					assert.Equal(t, c.listener, e.Listener)
					if c.reason == nil {
						assert.NoError(t, e.Err)
						assert.NoError(t, errors.Unwrap(err))
					} else {
						assert.ErrorIs(t, err, c.reason)
						assert.Contains(t, err.Error(), c.reason.Error())
					}
					if c.reason == custom {
						var got *abNotConfirmed
						if assert.ErrorAs(t, err, &got) {
							assert.Same(t, custom, got)
						}
					}
					if c.listener != "" {
						assert.Contains(t, err.Error(), c.listener)
					}
					abMessage(t, err, "AcceptTask", c.listener)
				})
			}
		}
	})

	t.Run("Aborting and errors: sequential abort stops later listeners", func(t *testing.T) {
		var rec recorder
		r := New()
		r.AddListener("beforeA", rec.listen("b1", nil))
		r.AddListener("beforeA", rec.listen("b2", Abort(nil)), Named("b2"))
		r.AddListener("beforeA", rec.listen("b3", nil))
		mustRegister(t, r, "A", rec.body("body", nil))
		_, err := r.Call(ctx, "A", nil)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "b2", e.Listener)
		assert.Equal(t, "b1 b2", rec.trace())
	})

	t.Run("Aborting and errors: concurrent abort awaits started listeners and cancels their ctx", func(t *testing.T) {
		for _, m := range concurrentModes {
			t.Run(m.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var rec recorder
					r := New(m.reg...)
					mustRegister(t, r, "A", rec.body("body", nil), m.act...)
					reason := errors.New("agent offline")
					release := make(chan struct{})
					causes := make([]error, 2)
					for i := range causes {
						r.AddListener("beforeA", func(ctx context.Context, _ any) error {
							<-ctx.Done()
							causes[i] = context.Cause(ctx)
							<-release
							rec.add(fmt.Sprint("waiter", i))
							return nil
						})
					}
					r.AddListener("beforeA", rec.listen("aborter", Abort(reason)), Named("aborter"))
					r.AddListener("afterA", rec.listen("after", nil))

					fut := r.InvokeAction(t.Context(), "A", nil)
					synctest.Wait()
					require.False(t, isDone(fut), "the abort was applied before the started listeners returned")
					close(release)
					_, err, ok := awaitFuture(t, fut)
					require.True(t, ok)
					assert.ErrorIs(t, err, ErrAborted)
					assert.ErrorIs(t, err, reason)
					for i, cause := range causes {
						// The same error the future fails with.
						assert.Same(t, err, cause, "waiter %d", i)
						assert.ErrorIs(t, err, cause, "waiter %d", i)
					}
					assert.Equal(t, "aborter waiter0 waiter1", rec.sorted())
				})
			})
		}
	})

	t.Run("Aborting and errors: listeners that stop early on the abort add no failure", func(t *testing.T) {
		// The abort cancels the others' ctx "so they can stop early"; a
		// listener that does so, returning what its ctx says, has not
		// failed, and the caller's ctx was never cancelled.
		cases := []struct {
			name string
			ret  func(ctx context.Context) error
		}{
			{"returns ctx.Err()", func(ctx context.Context) error { return ctx.Err() }},
			{"returns context.Cause(ctx)", context.Cause},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r := New()
					mustRegister(t, r, "A", doneBody(new(recorder)), Concurrent(true))
					reason := errors.New("not confirmed")
					var cause error
					r.AddListener("beforeA", func(ctx context.Context, _ any) error {
						<-ctx.Done()
						cause = context.Cause(ctx)
						return c.ret(ctx)
					}, Named("waiter"))
					r.AddListener("beforeA", func(context.Context, any) error { return Abort(reason) }, Named("aborter"))
					_, err, ok := awaitFuture(t, r.InvokeAction(t.Context(), "A", nil))
					require.True(t, ok)
					require.ErrorIs(t, err, ErrAborted)
					assert.ErrorIs(t, err, reason)
					assert.Same(t, cause, err, "the future fails with the abort that cancelled the waiter")
					assert.NotErrorIs(t, err, ErrFailed, "stopping early is not a failure")
					assert.NotErrorIs(t, err, context.Canceled, "the caller's ctx was not cancelled")
				})
			})
		}
	})

	t.Run("Aborting and errors: concurrent abort wins over failure", func(t *testing.T) {
		reason := errors.New("not confirmed")
		failure := errors.New("crm timeout")
		// noted is the cause a waiting listener saw.
		type noted struct{ cause error }
		// waitThen returns a listener that waits until another listener
		// stopped the phase, notes the cause, and returns ret.
		waitThen := func(n *noted, ret error) Listener {
			return func(ctx context.Context, _ any) error {
				<-ctx.Done()
				n.cause = context.Cause(ctx)
				return ret
			}
		}
		cases := []struct {
			name      string
			listeners func(n *noted) []Listener
		}{
			{"abort first", func(n *noted) []Listener {
				return []Listener{func(context.Context, any) error { return Abort(reason) }, waitThen(n, failure)}
			}},
			{"failure first", func(n *noted) []Listener {
				return []Listener{func(context.Context, any) error { return failure }, waitThen(n, Abort(reason))}
			}},
			{"panic first", func(n *noted) []Listener {
				return []Listener{func(context.Context, any) error { abPanic(failure); return nil }, waitThen(n, Abort(reason))}
			}},
		}
		for _, c := range cases {
			for _, order := range []string{"forward", "reverse"} {
				t.Run(c.name+"/"+order, func(t *testing.T) {
					// In a bubble, a phase that never ends fails at once.
					synctest.Test(t, func(t *testing.T) {
						var rec recorder
						r := New()
						mustRegister(t, r, "A", rec.body("body", nil), Concurrent(true))
						r.AddListener("afterA", rec.listen("after", nil))
						var n noted
						ls := c.listeners(&n)
						if order == "reverse" {
							ls[0], ls[1] = ls[1], ls[0]
						}
						for _, l := range ls {
							r.AddListener("beforeA", l)
						}
						_, err, ok := awaitFuture(t, r.InvokeAction(t.Context(), "A", nil))
						require.True(t, ok)
						require.Error(t, err)
						assert.ErrorIs(t, err, ErrAborted, "the abort wins")
						var e *Error
						if assert.ErrorAs(t, err, &e) {
							assert.Equal(t, ErrAborted, e.Kind, "the first *Error is the abort")
							assert.ErrorIs(t, e, reason)
						}
						assert.ErrorIs(t, err, failure, "the failure is still reachable")
						require.Error(t, n.cause)
						assert.ErrorIs(t, err, n.cause, "the cancelled listener's cause is reachable")
						assert.Empty(t, rec.trace())
						abMessage(t, err, "A")
					})
				})
			}
		}
	})

	t.Run("Aborting and errors: before-listener failure is not an abort", func(t *testing.T) {
		boom := errors.New("no connection")
		cases := []struct {
			name  string
			fn    Listener
			check func(t *testing.T, err error)
		}{
			{"error", func(context.Context, any) error { return boom }, func(t *testing.T, err error) {
				assert.ErrorIs(t, err, boom)
			}},
			{"wrapped error", func(context.Context, any) error { return fmt.Errorf("dialling crm: %w", boom) }, func(t *testing.T, err error) {
				assert.ErrorIs(t, err, boom)
				assert.Contains(t, err.Error(), "dialling crm")
			}},
			{"panic", func(context.Context, any) error { abPanic("listener bug"); return nil }, func(t *testing.T, err error) {
				var pe *PanicError
				if assert.ErrorAs(t, err, &pe) {
					assert.Equal(t, "listener bug", pe.Value)
				}
				assert.ErrorIs(t, err, ErrPanicked)
			}},
		}
		for _, c := range cases {
			for _, m := range phaseModes {
				t.Run(c.name+"/"+m.name, func(t *testing.T) {
					var rec recorder
					r := New()
					mustRegister(t, r, "AcceptTask", rec.body("body", nil), m.act...)
					r.ReplaceAction("AcceptTask", func(ctx context.Context, p any, original Body) (any, error) {
						rec.add("replacement")
						return original(ctx, p)
					})
					r.AddListener("beforeAcceptTask", c.fn, Named("crm"))
					r.AddListener("afterAcceptTask", rec.listen("after", nil))
					if m.act == nil {
						r.AddListener("beforeAcceptTask", rec.listen("later", nil))
					}
					_, err, ok := awaitFuture(t, r.InvokeAction(ctx, "AcceptTask", nil))
					require.True(t, ok)
					require.Error(t, err)
					assert.ErrorIs(t, err, ErrFailed)
					assert.NotErrorIs(t, err, ErrAborted)
					var e *Error
					if assert.ErrorAs(t, err, &e) {
						assert.Equal(t, StageBefore, e.Stage)
						assert.Equal(t, "crm", e.Listener)
						assert.Equal(t, "AcceptTask", e.Action)
					}
					assert.Contains(t, err.Error(), "before")
					c.check(t, err)
					assert.Empty(t, rec.trace(), "nothing after the failing listener runs")
					abMessage(t, err, "AcceptTask")
				})
			}
		}
	})

	t.Run("Aborting and errors: abort from an after-listener is a failure", func(t *testing.T) {
		for _, m := range phaseModes {
			t.Run(m.name, func(t *testing.T) {
				var rec recorder
				var sink errorSink
				r := New(WithErrorHandler(sink.handle))
				reason := errors.New("too late")
				mustRegister(t, r, "A", rec.body("body", "result"), m.act...)
				r.AddListener("afterA", rec.listen("aborter", Abort(reason)), Named("late"))
				r.AddListener("afterA", rec.listen("next", nil))
				res, err := r.Call(ctx, "A", nil)
				require.NoError(t, err, "the outcome is unchanged")
				assert.Equal(t, "result", res)
				assert.Equal(t, "aborter body next", rec.sorted(), "later after-listeners still run")
				got := sink.all()
				require.Len(t, got, 1)
				assert.ErrorIs(t, got[0], reason)
				var e *Error
				if assert.ErrorAs(t, got[0], &e) {
					assert.Equal(t, ErrFailed, e.Kind)
					assert.Equal(t, StageAfter, e.Stage)
					assert.Equal(t, "late", e.Listener)
				}
			})
		}
	})

	t.Run("Aborting and errors: body or replacement error", func(t *testing.T) {
		boom := errors.New("crm down")
		cases := []struct {
			name   string
			layers []Replacement
			body   Body
		}{
			{"body", nil, func(context.Context, any) (any, error) { return nil, boom }},
			{"replacement", []Replacement{func(context.Context, any, Body) (any, error) { return nil, fmt.Errorf("wrapping: %w", boom) }}, doneBody(new(recorder))},
			{"body through replacements", []Replacement{
				func(ctx context.Context, p any, original Body) (any, error) { return original(ctx, p) },
				func(ctx context.Context, p any, original Body) (any, error) { return original(ctx, p) },
			}, func(context.Context, any) (any, error) { return nil, boom }},
			{"inner replacement", []Replacement{
				func(context.Context, any, Body) (any, error) { return nil, boom },
				func(ctx context.Context, p any, original Body) (any, error) { return original(ctx, p) },
			}, doneBody(new(recorder))},
		}
		for _, c := range cases {
			for _, way := range invokeWays {
				t.Run(c.name+"/"+way.name, func(t *testing.T) {
					var rec recorder
					r := New()
					mustRegister(t, r, "WrapupTask", c.body)
					for _, l := range c.layers {
						r.ReplaceAction("WrapupTask", l)
					}
					r.AddListener("afterWrapupTask", rec.listen("after", nil))
					res, err := way.run(ctx, r, "WrapupTask", nil)
					assert.Nil(t, res)
					assert.ErrorIs(t, err, boom)
					assert.ErrorIs(t, err, ErrFailed)
					assert.NotErrorIs(t, err, ErrAborted)
					var e *Error
					if assert.ErrorAs(t, err, &e) {
						assert.Equal(t, "WrapupTask", e.Action)
						assert.Equal(t, StageBody, e.Stage)
					}
					abMessage(t, err, "WrapupTask")
					assert.Empty(t, rec.trace(), "after-listeners do not run")
				})
			}
		}
	})

	t.Run("Aborting and errors: after-listener errors are joined and delivered", func(t *testing.T) {
		e1, e3 := errors.New("audit failed"), errors.New("metrics failed")
		for _, m := range phaseModes {
			t.Run(m.name, func(t *testing.T) {
				var rec recorder
				var sink errorSink
				r := New(WithErrorHandler(sink.handle))
				mustRegister(t, r, "A", rec.body("body", "result"), m.act...)
				r.AddListener("afterA", rec.listen("a1", e1), Named("audit"))
				r.AddListener("afterA", func(context.Context, any) error {
					rec.add("a2")
					abPanic("after bug")
					return nil
				}, Named("buggy"))
				r.AddListener("afterA", rec.listen("a3", e3), Named("metrics"))
				r.AddListener("afterA", rec.listen("a4", nil))

				res, err := r.Call(ctx, "A", nil)
				require.NoError(t, err, "after-listener errors do not change the outcome")
				assert.Equal(t, "result", res)
				assert.Equal(t, "a1 a2 a3 a4 body", rec.sorted(), "every after-listener runs")

				got := sink.all()
				require.Len(t, got, 1, "one joined error per invocation")
				joined := got[0]
				assert.ErrorIs(t, joined, e1)
				assert.ErrorIs(t, joined, e3)
				var pe *PanicError
				if assert.ErrorAs(t, joined, &pe) {
					assert.Equal(t, "after bug", pe.Value)
				}
				multi, ok := joined.(interface{ Unwrap() []error })
				require.True(t, ok, "the errors are joined")
				var names []string
				for _, err := range multi.Unwrap() {
					var e *Error
					if assert.ErrorAs(t, err, &e) {
						assert.Equal(t, StageAfter, e.Stage)
						assert.Equal(t, ErrFailed, e.Kind)
						names = append(names, e.Listener)
					}
				}
				assert.ElementsMatch(t, []string{"audit", "buggy", "metrics"}, names)
				abMessage(t, joined, "A", "audit", "buggy", "metrics")

				// Without errors the handler is not called.
				r.RemoveAllListeners("afterA")
				r.AddListener("afterA", rec.listen("fine", nil))
				_, err = r.Call(ctx, "A", nil)
				require.NoError(t, err)
				assert.Len(t, sink.all(), 1)
			})
		}
	})

	t.Run("Aborting and errors: default error handler logs with slog", func(t *testing.T) {
		var buf bytes.Buffer
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
		t.Cleanup(func() { slog.SetDefault(prev) })

		r := New()
		mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "result", nil })
		r.AddListener("afterA", func(context.Context, any) error { return errors.New("audit failed") })
		res, err := r.Call(ctx, "A", nil)
		require.NoError(t, err)
		assert.Equal(t, "result", res)
		assert.Contains(t, buf.String(), "level=ERROR")
		assert.Contains(t, buf.String(), "audit failed")
	})

	t.Run("Aborting and errors: panics are recovered into PanicError", func(t *testing.T) {
		errValue := errors.New("panic with an error")
		values := []struct {
			name  string
			value any
		}{
			{"string", "kaboom"},
			{"error", errValue},
			{"nil", nil},
		}
		stages := []struct {
			name  string
			stage Stage
			// setup makes the stage panic with v.
			setup func(t *testing.T, r *Registry, v any)
			// viaHandler: the panic reaches the error handler and the
			// invocation succeeds.
			viaHandler bool
		}{
			{"payload update", StageUpdate, func(t *testing.T, r *Registry, v any) {
				mustRegister(t, r, "A", doneBody(new(recorder)), UpdatePayload(func(context.Context, any) (any, error) { abPanic(v); return nil, nil }))
			}, false},
			{"before-listener", StageBefore, func(t *testing.T, r *Registry, v any) {
				mustRegister(t, r, "A", doneBody(new(recorder)))
				r.AddListener("beforeA", func(context.Context, any) error { abPanic(v); return nil })
			}, false},
			{"concurrent before-listener", StageBefore, func(t *testing.T, r *Registry, v any) {
				mustRegister(t, r, "A", doneBody(new(recorder)), Concurrent(true))
				// First in the list: started in a goroutine of its own.
				r.AddListener("beforeA", func(context.Context, any) error { abPanic(v); return nil })
				r.AddListener("beforeA", func(context.Context, any) error { return nil })
			}, false},
			{"body", StageBody, func(t *testing.T, r *Registry, v any) {
				mustRegister(t, r, "A", func(context.Context, any) (any, error) { abPanic(v); return nil, nil })
			}, false},
			{"replacement", StageBody, func(t *testing.T, r *Registry, v any) {
				mustRegister(t, r, "A", doneBody(new(recorder)))
				r.ReplaceAction("A", func(context.Context, any, Body) (any, error) { abPanic(v); return nil, nil })
			}, false},
			{"after-listener", StageAfter, func(t *testing.T, r *Registry, v any) {
				mustRegister(t, r, "A", doneBody(new(recorder)))
				r.AddListener("afterA", func(context.Context, any) error { abPanic(v); return nil })
			}, true},
			{"concurrent after-listener", StageAfter, func(t *testing.T, r *Registry, v any) {
				mustRegister(t, r, "A", doneBody(new(recorder)), Concurrent(true))
				r.AddListener("afterA", func(context.Context, any) error { abPanic(v); return nil })
				r.AddListener("afterA", func(context.Context, any) error { return nil })
			}, true},
			{"block match", StageBlock, func(t *testing.T, r *Registry, v any) {
				mustRegister(t, r, "A", doneBody(new(recorder)))
				r.BlockAction("A", func(any) bool { abPanic(v); return false })
			}, false},
			{"de-duplication key", StageKey, func(t *testing.T, r *Registry, v any) {
				mustRegister(t, r, "A", doneBody(new(recorder)), Deduplicate(func(any) string { abPanic(v); return "" }, RejectPending))
			}, false},
		}
		for _, s := range stages {
			for _, val := range values {
				for _, way := range invokeWays {
					t.Run(s.name+"/"+val.name+"/"+way.name, func(t *testing.T) {
						var sink errorSink
						r := New(WithErrorHandler(sink.handle))
						s.setup(t, r, val.value)
						res, err := way.run(ctx, r, "A", "p")
						if s.viaHandler {
							require.NoError(t, err)
							assert.Equal(t, "done", res)
							got := sink.all()
							require.Len(t, got, 1)
							err = got[0]
						} else {
							require.Error(t, err)
							assert.Nil(t, res)
							assert.Empty(t, sink.all())
						}
						assert.ErrorIs(t, err, ErrFailed)
						assert.ErrorIs(t, err, ErrPanicked)
						var e *Error
						if assert.ErrorAs(t, err, &e) {
							assert.Equal(t, s.stage, e.Stage)
							assert.Equal(t, "A", e.Action)
						}
						var pe *PanicError
						require.ErrorAs(t, err, &pe)
						switch val.value {
						case nil:
							var pn *runtime.PanicNilError
							assert.ErrorAs(t, err, &pn, "panic(nil) is recovered as runtime.PanicNilError")
						default:
							assert.Equal(t, val.value, pe.Value)
						}
						if val.value == errValue {
							assert.ErrorIs(t, err, errValue, "an error panic value is reachable")
						}
						assert.Contains(t, string(pe.Stack), "actions.abPanic(", "the stack is the panicking goroutine's at the panic")
						assert.Contains(t, err.Error(), "panic")
					})
				}
			}
		}
	})

	t.Run("Aborting and errors: every error matches a sentinel, is an *Error and names the action", func(t *testing.T) {
		const action = "AcceptTask"
		cases := []struct {
			name     string
			sentinel error
			produce  func(t *testing.T) error
		}{
			{"not found", ErrActionNotFound, func(t *testing.T) error {
				_, err := New().Call(ctx, action, nil)
				return err
			}},
			{"already registered", ErrAlreadyRegistered, func(t *testing.T) error {
				r := New()
				mustRegister(t, r, action, doneBody(new(recorder)))
				_, err := r.RegisterAction(action, doneBody(new(recorder)))
				return err
			}},
			{"closed", ErrClosed, func(t *testing.T) error {
				r := New()
				mustRegister(t, r, action, doneBody(new(recorder)))
				require.NoError(t, r.Close(ctx))
				_, err := r.Call(ctx, action, nil)
				return err
			}},
			{"blocked", ErrBlocked, func(t *testing.T) error {
				r := New()
				mustRegister(t, r, action, doneBody(new(recorder)))
				r.BlockAction(action, nil)
				_, err := r.Call(ctx, action, nil)
				return err
			}},
			{"pending", ErrPending, func(t *testing.T) error {
				r := New()
				var inner error
				mustRegister(t, r, action, func(ctx context.Context, _ any) (any, error) {
					_, inner = r.Call(ctx, action, "k")
					return nil, nil
				}, Deduplicate(func(any) string { return "k" }, RejectPending))
				_, err := r.Call(ctx, action, "k")
				require.NoError(t, err)
				return inner
			}},
			{"aborted without reason", ErrAborted, func(t *testing.T) error {
				r := New()
				mustRegister(t, r, action, doneBody(new(recorder)))
				r.AddListener("before"+action, func(context.Context, any) error { return Abort(nil) })
				_, err := r.Call(ctx, action, nil)
				return err
			}},
			{"aborted with reason", ErrAborted, func(t *testing.T) error {
				r := New()
				mustRegister(t, r, action, doneBody(new(recorder)))
				r.AddListener("before"+action, func(context.Context, any) error { return Abort(errors.New("not confirmed")) })
				_, err := r.Call(ctx, action, nil)
				return err
			}},
			{"failed in payload update", ErrFailed, func(t *testing.T) error {
				r := New()
				mustRegister(t, r, action, doneBody(new(recorder)), UpdatePayload(func(context.Context, any) (any, error) {
					return nil, errors.New("bad payload")
				}))
				_, err := r.Call(ctx, action, nil)
				return err
			}},
			{"failed in before phase", ErrFailed, func(t *testing.T) error {
				r := New()
				mustRegister(t, r, action, doneBody(new(recorder)))
				r.AddListener("before"+action, func(context.Context, any) error { return errors.New("no connection") })
				_, err := r.Call(ctx, action, nil)
				return err
			}},
			{"failed in body", ErrFailed, func(t *testing.T) error {
				r := New()
				mustRegister(t, r, action, func(context.Context, any) (any, error) { return nil, errors.New("crm down") })
				_, err := r.Call(ctx, action, nil)
				return err
			}},
			{"panicked", ErrPanicked, func(t *testing.T) error {
				r := New()
				mustRegister(t, r, action, func(context.Context, any) (any, error) { abPanic("kaboom"); return nil, nil })
				_, err := r.Call(ctx, action, nil)
				return err
			}},
			{"failed in after phase", ErrFailed, func(t *testing.T) error {
				var sink errorSink
				r := New(WithErrorHandler(sink.handle))
				mustRegister(t, r, action, doneBody(new(recorder)))
				r.AddListener("after"+action, func(context.Context, any) error { return errors.New("audit failed") })
				r.AddListener("after"+action, func(context.Context, any) error { return errors.New("metrics failed") })
				_, err := r.Call(ctx, action, nil)
				require.NoError(t, err)
				got := sink.all()
				require.Len(t, got, 1)
				return got[0]
			}},
			{"depth exceeded", ErrDepthExceeded, func(t *testing.T) error {
				r := New(WithMaxDepth(1))
				var inner error
				mustRegister(t, r, action, func(ctx context.Context, _ any) (any, error) {
					_, inner = r.Call(ctx, action, nil)
					return nil, nil
				})
				_, err := r.Call(ctx, action, nil)
				require.NoError(t, err)
				return inner
			}},
			{"payload type", ErrPayloadType, func(t *testing.T) error {
				r := New()
				_, err := Typed[int, int](r, action).Register(func(_ context.Context, n int) (int, error) { return n, nil })
				require.NoError(t, err)
				_, err = r.Call(ctx, action, "not an int")
				return err
			}},
			{"ctx done", context.Canceled, func(t *testing.T) error {
				r := New()
				mustRegister(t, r, action, doneBody(new(recorder)))
				done, cancel := context.WithCancel(ctx)
				cancel()
				_, err := r.Call(done, action, nil)
				return err
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := c.produce(t)
				require.Error(t, err)
				assert.ErrorIs(t, err, c.sentinel)
				var e *Error
				if assert.ErrorAs(t, err, &e) {
					assert.Equal(t, action, e.Action)
				}
				abMessage(t, err, action)
			})
		}
	})
}

// TestAbortWrapped: an abort wrapped by user code keeps one package prefix,
// at the start of the invocation's message (Aborting and errors).
func TestAbortWrapped(t *testing.T) {
	r := New()
	mustRegister(t, r, "A", func(context.Context, any) (any, error) { return nil, nil })
	reason := errors.New("over quota")
	r.AddListener("beforeA", func(context.Context, any) error {
		return fmt.Errorf("quota check: %w", Abort(reason))
	}, Named("quota"))
	_, err := r.Call(context.Background(), "A", nil)
	require.ErrorIs(t, err, ErrAborted)
	assert.ErrorIs(t, err, reason)
	assert.EqualError(t, err, `actions: A: action aborted in before phase by listener "quota": quota check: aborted: over quota`)
	assert.Equal(t, 1, strings.Count(err.Error(), "actions:"))
}

// abList is a reason whose dynamic type is not comparable: == on two
// interfaces holding it panics.
type abList []string

func (l abList) Error() string { return strings.Join(l, ", ") }

// Abort shares the abort it made for a reason given again, and never confuses
// two reasons: not two values of one type, not a non-comparable one, not two
// goroutines aborting with different reasons at once.
func TestAbortReasonReused(t *testing.T) {
	fixed := errors.New("fixed")
	assert.Same(t, Abort(fixed), Abort(fixed), "a reason made once costs its abort once")
	assert.Same(t, Abort(nil), Abort(nil))

	list := abList{"a", "b"}
	for _, reason := range []error{list, abList{"c"}, list, fixed, &abNotConfirmed{agent: "x"}, &abNotConfirmed{agent: "x"}, nil} {
		err := Abort(reason)
		assert.ErrorIs(t, err, ErrAborted)
		assert.Equal(t, reason, errors.Unwrap(err), "the abort carries the reason it was given")
		if reason != nil {
			assert.Equal(t, "aborted: "+reason.Error(), err.Error())
		}
	}
	a, b := &abNotConfirmed{agent: "x"}, &abNotConfirmed{agent: "x"}
	ea, eb := Abort(a), Abort(b)
	var got *abNotConfirmed
	require.ErrorAs(t, ea, &got)
	assert.Same(t, a, got)
	require.ErrorAs(t, eb, &got)
	assert.Same(t, b, got, "reasons equal in value are told apart by identity")

	reasons := make([]error, 256) // more than the cache has slots: they collide
	for i := range reasons {
		reasons[i] = fmt.Errorf("reason %d", i)
	}
	done := make(chan struct{})
	for g := range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			for n := range 2000 {
				reason := reasons[(n*7+g)%len(reasons)]
				if got := errors.Unwrap(Abort(reason)); got != reason {
					t.Errorf("Abort(%v) carries %v", reason, got)
					return
				}
			}
		}()
	}
	<-done
	<-done
}
