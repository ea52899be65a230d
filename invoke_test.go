package actions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lcStages attaches to name one recording instance of every kind of stage
// except the body and the action options, each noting the payload it saw, so
// that a trace shows which stages ran, in what order and on what.
func lcStages(r *Registry, rec *recorder, name string) {
	r.BlockAction(name, func(p any) bool { rec.add(fmt.Sprint("block:", p)); return false })
	r.AddListener("before"+name, func(_ context.Context, p any) error { rec.add(fmt.Sprint("before1:", p)); return nil })
	r.AddListener("before"+name, func(_ context.Context, p any) error { rec.add(fmt.Sprint("before2:", p)); return nil })
	r.AddListener("after"+name, func(_ context.Context, p any) error { rec.add(fmt.Sprint("after1:", p)); return nil })
	r.AddListener("after"+name, func(_ context.Context, p any) error { rec.add(fmt.Sprint("after2:", p)); return nil })
	r.ReplaceAction(name, func(ctx context.Context, p any, original Body) (any, error) {
		rec.add(fmt.Sprint("replace:", p))
		res, err := original(ctx, p)
		return fmt.Sprintf("replaced(%v)", res), err
	})
}

// lcOptions are a recording de-duplication key and a payload update that
// turns payload p into "upd(p)".
func lcOptions(rec *recorder) []ActionOption {
	return []ActionOption{
		Deduplicate(func(p any) string { rec.add(fmt.Sprint("key:", p)); return fmt.Sprint(p) }, RejectPending),
		UpdatePayload(func(_ context.Context, p any) (any, error) {
			rec.add(fmt.Sprint("update:", p))
			return fmt.Sprintf("upd(%v)", p), nil
		}),
	}
}

const lcFullTrace = "block:p key:p update:p before1:upd(p) before2:upd(p) replace:upd(p) body:upd(p) after1:upd(p) after2:upd(p)"

func TestLifecycle(t *testing.T) {
	ctx := context.Background()

	t.Run("Lifecycle steps run in order", func(t *testing.T) {
		for _, way := range invokeWays {
			t.Run(way.name, func(t *testing.T) {
				var rec recorder
				r := New()
				lcStages(r, &rec, "AcceptTask")
				mustRegister(t, r, "AcceptTask", doneBody(&rec), lcOptions(&rec)...)
				res, err := way.run(ctx, r, "AcceptTask", "p")
				require.NoError(t, err)
				assert.Equal(t, "replaced(done)", res)
				assert.Equal(t, lcFullTrace, rec.trace())
			})
		}
	})

	t.Run("Lifecycle step 0 done ctx runs nothing", func(t *testing.T) {
		cause := errors.New("shift over")
		ctxs := []struct {
			name string
			make func() context.Context
			want error // context.Cause of the ctx
		}{
			{"cancelled", func() context.Context {
				c, cancel := context.WithCancel(ctx)
				cancel()
				return c
			}, context.Canceled},
			{"cancelled with cause", func() context.Context {
				c, cancel := context.WithCancelCause(ctx)
				cancel(cause)
				return c
			}, cause},
			{"deadline passed", func() context.Context {
				c, cancel := context.WithDeadline(ctx, time.Unix(0, 0))
				t.Cleanup(cancel)
				return c
			}, context.DeadlineExceeded},
		}
		cases := []struct {
			name     string
			register bool
			close    bool
		}{
			{"registered", true, false},
			{"before lookup of an unknown action", false, false},
			{"before the closed check", true, true},
		}
		for _, d := range ctxs {
			for _, c := range cases {
				for _, way := range invokeWays {
					t.Run(d.name+"/"+c.name+"/"+way.name, func(t *testing.T) {
						var rec recorder
						r := New()
						lcStages(r, &rec, "AcceptTask")
						if c.register {
							mustRegister(t, r, "AcceptTask", doneBody(&rec), lcOptions(&rec)...)
						}
						if c.close {
							require.NoError(t, r.Close(ctx))
						}
						done := d.make()
						require.ErrorIs(t, context.Cause(done), d.want)

						_, err := way.run(done, r, "AcceptTask", "p")
						require.Error(t, err)
						assert.ErrorIs(t, err, d.want)
						assert.NotErrorIs(t, err, ErrActionNotFound)
						assert.NotErrorIs(t, err, ErrClosed)
						var e *Error
						if assert.ErrorAs(t, err, &e) {
							assert.Equal(t, "AcceptTask", e.Action)
							assert.Nil(t, e.Kind)
						}
						assert.Empty(t, rec.trace(), "no stage may run")
					})
				}
			}
		}
	})

	t.Run("Lifecycle step 1 unknown action runs no listener", func(t *testing.T) {
		cases := []struct {
			name  string
			setup func(t *testing.T, r *Registry, rec *recorder)
		}{
			{"never registered", func(*testing.T, *Registry, *recorder) {}},
			{"unregistered", func(t *testing.T, r *Registry, rec *recorder) {
				unregister := mustRegister(t, r, "AcceptTask", doneBody(rec), lcOptions(rec)...)
				require.True(t, unregister())
			}},
			{"name differs in case", func(t *testing.T, r *Registry, rec *recorder) {
				mustRegister(t, r, "acceptTask", doneBody(rec), lcOptions(rec)...)
			}},
		}
		for _, c := range cases {
			for _, way := range invokeWays {
				t.Run(c.name+"/"+way.name, func(t *testing.T) {
					var rec recorder
					r := New()
					lcStages(r, &rec, "AcceptTask")
					c.setup(t, r, &rec)
					_, err := way.run(ctx, r, "AcceptTask", "p")
					assertKind(t, err, ErrActionNotFound, "AcceptTask")
					assert.Empty(t, rec.trace(), "no stage may run")
				})
			}
		}
	})

	t.Run("Lifecycle step 1 lookup precedes the closed check", func(t *testing.T) {
		r := New()
		require.NoError(t, r.Close(ctx))
		_, err := r.Call(ctx, "Nowhere", nil)
		assert.ErrorIs(t, err, ErrActionNotFound)
		assert.NotErrorIs(t, err, ErrClosed)
	})

	t.Run("Lifecycle step 2 closed registry runs nothing", func(t *testing.T) {
		for _, way := range invokeWays {
			t.Run(way.name, func(t *testing.T) {
				var rec recorder
				r := New()
				lcStages(r, &rec, "AcceptTask")
				// A block that matches everything: the closed check comes first.
				r.BlockAction("AcceptTask", func(p any) bool { rec.add("block all"); return true })
				mustRegister(t, r, "AcceptTask", doneBody(&rec), lcOptions(&rec)...)
				require.NoError(t, r.Close(ctx))

				_, err := way.run(ctx, r, "AcceptTask", "p")
				assertKind(t, err, ErrClosed, "AcceptTask")
				assert.NotErrorIs(t, err, ErrBlocked)
				assert.Empty(t, rec.trace(), "no stage may run")
			})
		}
	})

	t.Run("Lifecycle step 3 blocked runs nothing and matches the caller's payload", func(t *testing.T) {
		for _, way := range invokeWays {
			t.Run(way.name, func(t *testing.T) {
				var rec recorder
				r := New()
				lcStages(r, &rec, "AcceptTask")
				// The update turns "p" into "upd(p)": a match on the updated
				// payload would block "p".
				unblock := r.BlockAction("AcceptTask", func(p any) bool {
					rec.add(fmt.Sprint("match:", p))
					return p == "vip" || p == "upd(p)"
				})
				mustRegister(t, r, "AcceptTask", doneBody(&rec), lcOptions(&rec)...)

				_, err := way.run(ctx, r, "AcceptTask", "vip")
				assertKind(t, err, ErrBlocked, "AcceptTask")
				// The other block may or may not be consulted first; nothing
				// after the blocks may run.
				assert.NotContains(t, rec.trace(), "key:")
				assert.NotContains(t, rec.trace(), "update:")
				assert.NotContains(t, rec.trace(), "before")
				assert.NotContains(t, rec.trace(), "body")
				assert.Contains(t, rec.trace(), "match:vip")

				rec = recorder{}
				_, err = way.run(ctx, r, "AcceptTask", "p")
				require.NoError(t, err)
				assert.Equal(t, "block:p match:p key:p update:p before1:upd(p) before2:upd(p) replace:upd(p) body:upd(p) after1:upd(p) after2:upd(p)", rec.trace())

				require.True(t, unblock())
				rec = recorder{}
				_, err = way.run(ctx, r, "AcceptTask", "vip")
				require.NoError(t, err)
				assert.Contains(t, rec.trace(), "body:upd(vip)")
			})
		}
	})

	t.Run("Lifecycle step 4 pending duplicate runs nothing", func(t *testing.T) {
		var rec recorder
		r := New()
		entered, hold := make(chan struct{}), make(chan struct{})
		var holding atomic.Bool
		r.AddListener("beforeAcceptTask", func(_ context.Context, p any) error {
			rec.add(fmt.Sprint("before:", p))
			if holding.CompareAndSwap(false, true) { // the first invocation stays in flight
				close(entered)
				<-hold
			}
			return nil
		})
		mustRegister(t, r, "AcceptTask", doneBody(&rec), lcOptions(&rec)...)

		first := r.InvokeAction(ctx, "AcceptTask", "a")
		select {
		case <-entered:
		case <-first.Done():
			_, err := first.Result()
			t.Fatalf("the first invocation ended early: %v", err)
		}
		_, err := r.Call(ctx, "AcceptTask", "a")
		assertKind(t, err, ErrPending, "AcceptTask")
		// Another key is not a duplicate.
		_, err = r.Call(ctx, "AcceptTask", "b")
		require.NoError(t, err)
		close(hold)
		_, err, ok := awaitFuture(t, first)
		require.True(t, ok)
		require.NoError(t, err)
		// The key saw the caller's payload each time; the rejected duplicate
		// ran no update, listener or body.
		assert.Equal(t, "key:a update:a before:upd(a) key:a key:b update:b before:upd(b) body:upd(b) body:upd(a)", rec.trace())
	})

	t.Run("Lifecycle step 4 shared duplicate runs nothing of its own", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var rec recorder
			r := New()
			hold := make(chan struct{})
			var calls atomic.Int32
			mustRegister(t, r, "AcceptTask", func(_ context.Context, p any) (any, error) {
				rec.add(fmt.Sprint("body:", p))
				<-hold
				return fmt.Sprint("result ", calls.Add(1)), nil
			},
				Deduplicate(func(p any) string { rec.add(fmt.Sprint("key:", p)); return fmt.Sprint(p) }, SharePending),
				UpdatePayload(func(_ context.Context, p any) (any, error) {
					rec.add(fmt.Sprint("update:", p))
					return fmt.Sprintf("upd(%v)", p), nil
				}))
			r.AddListener("beforeAcceptTask", rec.listen("before", nil))
			r.AddListener("afterAcceptTask", rec.listen("after", nil))

			first := r.InvokeAction(t.Context(), "AcceptTask", "a")
			synctest.Wait() // first is blocked in its body
			second := r.InvokeAction(t.Context(), "AcceptTask", "a")
			synctest.Wait() // second is waiting for first
			close(hold)
			res1, err1, ok := awaitFuture(t, first)
			require.True(t, ok)
			res2, err2, ok := awaitFuture(t, second)
			require.True(t, ok)
			require.NoError(t, err1)
			require.NoError(t, err2)
			assert.Equal(t, "result 1", res1)
			assert.Equal(t, "result 1", res2)
			assert.Equal(t, "key:a update:a before body:upd(a) key:a after", rec.trace())
		})
	})

	t.Run("Lifecycle step 5 payload update once, seen by every later stage", func(t *testing.T) {
		for _, way := range invokeWays {
			t.Run(way.name, func(t *testing.T) {
				var rec recorder
				var updates atomic.Int32
				r := New()
				lcStages(r, &rec, "AcceptTask")
				mustRegister(t, r, "AcceptTask", doneBody(&rec),
					Deduplicate(func(p any) string { rec.add(fmt.Sprint("key:", p)); return "k" }, RejectPending),
					UpdatePayload(func(_ context.Context, p any) (any, error) {
						updates.Add(1)
						rec.add(fmt.Sprint("update:", p))
						return fmt.Sprintf("upd(%v)", p), nil
					}))
				_, err := way.run(ctx, r, "AcceptTask", "p")
				require.NoError(t, err)
				assert.EqualValues(t, 1, updates.Load())
				assert.Equal(t, lcFullTrace, rec.trace())
			})
		}
	})

	t.Run("Lifecycle step 5 payload update error stops everything", func(t *testing.T) {
		boom := errors.New("bad payload")
		cases := []struct {
			name   string
			update PayloadUpdate
			check  func(t *testing.T, err error)
		}{
			{"error", func(context.Context, any) (any, error) { return nil, boom }, func(t *testing.T, err error) {
				assert.ErrorIs(t, err, boom)
			}},
			{"panic", func(context.Context, any) (any, error) { panic("bad payload") }, func(t *testing.T, err error) {
				var pe *PanicError
				if assert.ErrorAs(t, err, &pe) {
					assert.Equal(t, "bad payload", pe.Value)
				}
			}},
		}
		for _, c := range cases {
			for _, way := range invokeWays {
				t.Run(c.name+"/"+way.name, func(t *testing.T) {
					var rec recorder
					r := New()
					lcStages(r, &rec, "AcceptTask")
					mustRegister(t, r, "AcceptTask", doneBody(&rec), UpdatePayload(func(ctx context.Context, p any) (any, error) {
						rec.add("update")
						return c.update(ctx, p)
					}))
					_, err := way.run(ctx, r, "AcceptTask", "p")
					assert.ErrorIs(t, err, ErrFailed)
					var e *Error
					if assert.ErrorAs(t, err, &e) {
						assert.Equal(t, StageUpdate, e.Stage)
						assert.Equal(t, "AcceptTask", e.Action)
					}
					c.check(t, err)
					assert.Equal(t, "block:p update", rec.trace())
				})
			}
		}
	})

	t.Run("Lifecycle steps 6-7 before abort or failure skips body and after", func(t *testing.T) {
		cases := []struct {
			name   string
			result func() error
			kind   error
		}{
			{"abort", func() error { return Abort(errors.New("not confirmed")) }, ErrAborted},
			{"failure", func() error { return errors.New("no connection") }, ErrFailed},
			{"panic", func() error { panic("listener bug") }, ErrFailed},
		}
		for _, c := range cases {
			for _, way := range invokeWays {
				t.Run(c.name+"/"+way.name, func(t *testing.T) {
					var rec recorder
					r := New()
					lcStages(r, &rec, "AcceptTask")
					// Runs between before1 and before2.
					r.AddListener("beforeAcceptTask", func(context.Context, any) error {
						rec.add("stop")
						return c.result()
					}, Priority(-1))
					r.AddListener("beforeAcceptTask", rec.listen("late", nil), Priority(-2))
					mustRegister(t, r, "AcceptTask", doneBody(&rec), lcOptions(&rec)...)
					_, err := way.run(ctx, r, "AcceptTask", "p")
					assert.ErrorIs(t, err, c.kind)
					assert.Equal(t, "block:p key:p update:p before1:upd(p) before2:upd(p) stop", rec.trace())
				})
			}
		}
	})

	t.Run("Lifecycle step 8 body error skips after", func(t *testing.T) {
		boom := errors.New("crm down")
		cases := []struct {
			name        string
			body        Body
			replacement Replacement // nil for none
		}{
			{"body error", func(context.Context, any) (any, error) { return nil, boom }, nil},
			{"body panic", func(context.Context, any) (any, error) { panic(boom) }, nil},
			{"replacement error", doneBody(new(recorder)), func(context.Context, any, Body) (any, error) { return nil, boom }},
			{"replacement panic", doneBody(new(recorder)), func(context.Context, any, Body) (any, error) { panic(boom) }},
		}
		for _, c := range cases {
			for _, way := range invokeWays {
				t.Run(c.name+"/"+way.name, func(t *testing.T) {
					var rec recorder
					r := New()
					r.AddListener("beforeAcceptTask", rec.listen("before", nil))
					r.AddListener("afterAcceptTask", rec.listen("after", nil))
					if c.replacement != nil {
						r.ReplaceAction("AcceptTask", func(ctx context.Context, p any, original Body) (any, error) {
							rec.add("replace")
							return c.replacement(ctx, p, original)
						})
					}
					mustRegister(t, r, "AcceptTask", func(ctx context.Context, p any) (any, error) {
						rec.add("body")
						return c.body(ctx, p)
					})
					res, err := way.run(ctx, r, "AcceptTask", "p")
					assert.Nil(t, res)
					assert.ErrorIs(t, err, ErrFailed)
					assert.ErrorIs(t, err, boom)
					var e *Error
					if assert.ErrorAs(t, err, &e) {
						assert.Equal(t, StageBody, e.Stage)
					}
					want := "before body"
					if c.replacement != nil {
						want = "before replace"
					}
					assert.Equal(t, want, rec.trace())
				})
			}
		}
	})

	t.Run("Lifecycle step 8 the body is the one found at step 1", func(t *testing.T) {
		cases := []struct {
			name       string
			reregister bool
			wantNext   string // result of the next invocation, "" for not found
		}{
			{"unregistered during before phase", false, ""},
			{"re-registered during before phase", true, "new"},
		}
		for _, c := range cases {
			for _, way := range invokeWays {
				t.Run(c.name+"/"+way.name, func(t *testing.T) {
					var rec recorder
					r := New()
					unregister := mustRegister(t, r, "AcceptTask", rec.body("old body", "old"))
					r.AddListener("beforeAcceptTask", func(_ context.Context, p any) error {
						if p != "first" {
							return nil
						}
						assert.True(t, unregister())
						if c.reregister {
							_, err := r.RegisterAction("AcceptTask", rec.body("new body", "new"))
							assert.NoError(t, err)
						}
						return nil
					})
					r.AddListener("afterAcceptTask", rec.listen("after", nil))
					res, err := way.run(ctx, r, "AcceptTask", "first")
					require.NoError(t, err)
					assert.Equal(t, "old", res)
					assert.Equal(t, "old body after", rec.trace())

					res, err = way.run(ctx, r, "AcceptTask", "second")
					if c.wantNext == "" {
						assert.ErrorIs(t, err, ErrActionNotFound)
						return
					}
					require.NoError(t, err)
					assert.Equal(t, c.wantNext, res)
				})
			}
		}
	})

	t.Run("Lifecycle step 8 the replacement stack is read when the body starts", func(t *testing.T) {
		cases := []struct {
			name string
			// change runs in the before phase of the first invocation.
			change func(r *Registry, rec *recorder, existing func() bool)
			want   string
		}{
			{"pushed during before phase runs", func(r *Registry, rec *recorder, _ func() bool) {
				r.ReplaceAction("AcceptTask", func(ctx context.Context, p any, original Body) (any, error) {
					rec.add("new layer")
					res, err := original(ctx, p)
					return fmt.Sprintf("new(%v)", res), err
				})
			}, "new(old(body))"},
			{"removed during before phase does not run", func(_ *Registry, _ *recorder, existing func() bool) {
				existing()
			}, "body"},
		}
		for _, c := range cases {
			for _, way := range invokeWays {
				t.Run(c.name+"/"+way.name, func(t *testing.T) {
					var rec recorder
					r := New()
					mustRegister(t, r, "AcceptTask", rec.body("body", "body"))
					existing := r.ReplaceAction("AcceptTask", func(ctx context.Context, p any, original Body) (any, error) {
						rec.add("old layer")
						res, err := original(ctx, p)
						return fmt.Sprintf("old(%v)", res), err
					})
					r.AddListener("beforeAcceptTask", func(context.Context, any) error {
						c.change(r, &rec, existing)
						return nil
					}, Once())
					res, err := way.run(ctx, r, "AcceptTask", nil)
					require.NoError(t, err)
					assert.Equal(t, c.want, res)
				})
			}
		}
	})

	t.Run("Lifecycle step 9 after phase sees the same payload", func(t *testing.T) {
		type ticket struct{ steps []string }
		var seen []*ticket
		r := New()
		note := func(stage string) Listener {
			return func(_ context.Context, p any) error {
				tk := p.(*ticket)
				seen = append(seen, tk)
				tk.steps = append(tk.steps, stage)
				return nil
			}
		}
		r.AddListener("beforeAcceptTask", note("before"))
		r.AddListener("afterAcceptTask", func(ctx context.Context, p any) error {
			assert.Equal(t, []string{"before", "body"}, p.(*ticket).steps, "after-listener sees the body's changes")
			return note("after")(ctx, p)
		})
		mustRegister(t, r, "AcceptTask", func(ctx context.Context, p any) (any, error) {
			return nil, note("body")(ctx, p)
		})
		tk := &ticket{}
		_, err := r.Call(ctx, "AcceptTask", tk)
		require.NoError(t, err)
		assert.Equal(t, []string{"before", "body", "after"}, tk.steps)
		for _, s := range seen {
			assert.Same(t, tk, s)
		}
	})

	t.Run("Lifecycle step 10 result of the body or the outermost replacement", func(t *testing.T) {
		layer := func(name string) Replacement {
			return func(ctx context.Context, p any, original Body) (any, error) {
				res, err := original(ctx, p)
				return fmt.Sprintf("%s(%v)", name, res), err
			}
		}
		cases := []struct {
			name   string
			layers []Replacement
			want   string
		}{
			{"body", nil, "body"},
			{"one replacement", []Replacement{layer("r1")}, "r1(body)"},
			{"outermost of two", []Replacement{layer("r1"), layer("r2")}, "r2(r1(body))"},
			{"outermost ignores original", []Replacement{layer("r1"), func(context.Context, any, Body) (any, error) { return "r2 alone", nil }}, "r2 alone"},
		}
		for _, c := range cases {
			for _, way := range invokeWays {
				t.Run(c.name+"/"+way.name, func(t *testing.T) {
					r := New()
					mustRegister(t, r, "AcceptTask", func(context.Context, any) (any, error) { return "body", nil })
					for _, l := range c.layers {
						r.ReplaceAction("AcceptTask", l)
					}
					r.AddListener("afterAcceptTask", func(context.Context, any) error { return nil })
					res, err := way.run(ctx, r, "AcceptTask", nil)
					require.NoError(t, err)
					assert.Equal(t, c.want, res)
				})
			}
		}
	})

	t.Run("Concurrency concurrent invocations are independent", func(t *testing.T) {
		type item struct {
			n      int
			before atomic.Int32
		}
		for _, concurrent := range []bool{false, true} {
			t.Run(fmt.Sprintf("concurrent phases %v", concurrent), func(t *testing.T) {
				r := New()
				var afters atomic.Int32
				mustRegister(t, r, "Count", func(_ context.Context, p any) (any, error) {
					it := p.(*item)
					if got := it.before.Load(); got != 2 {
						return nil, fmt.Errorf("item %d: %d before-listeners ran, want 2", it.n, got)
					}
					return it.n * 2, nil
				},
					Concurrent(concurrent),
					// A fresh payload per invocation: sharing would show up as
					// a wrong count or result.
					UpdatePayload(func(_ context.Context, p any) (any, error) { return &item{n: p.(int)}, nil }))
				r.AddListener("beforeCount", func(_ context.Context, p any) error {
					p.(*item).before.Add(1)
					return nil
				})
				r.AddListener("beforeCount", func(_ context.Context, p any) error {
					it := p.(*item)
					it.before.Add(1)
					if it.n%3 == 0 {
						return Abort(fmt.Errorf("multiple of three: %d", it.n))
					}
					return nil
				})
				r.AddListener("afterCount", func(_ context.Context, p any) error {
					if p.(*item).n%3 == 0 {
						return fmt.Errorf("after-listener ran for aborted %d", p.(*item).n)
					}
					afters.Add(1)
					return nil
				})

				const n = 300
				type outcome struct {
					res any
					err error
				}
				outcomes := make([]outcome, n)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						<-start
						// Each way to invoke in turn.
						res, err := invokeWays[i%len(invokeWays)].run(ctx, r, "Count", i)
						outcomes[i] = outcome{res, err}
					})
				}
				close(start)
				wg.Wait()
				aborted := 0
				for i, o := range outcomes {
					if i%3 == 0 {
						aborted++
						assert.ErrorIs(t, o.err, ErrAborted, "invocation %d", i)
						assert.EqualError(t, errors.Unwrap(o.err), fmt.Sprintf("multiple of three: %d", i), "invocation %d carries its own reason", i)
						assert.Nil(t, o.res)
						continue
					}
					if assert.NoError(t, o.err, "invocation %d", i) {
						assert.Equal(t, i*2, o.res, "invocation %d", i)
					}
				}
				assert.EqualValues(t, n-aborted, afters.Load())
			})
		}
	})

	t.Run("Lifecycle_call_has_the_same_semantics", func(t *testing.T) {
		errBoom := errors.New("boom")
		reason := errors.New("agent declined")
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		for _, tc := range []struct {
			name      string
			setup     func(r *Registry, rec *recorder)
			ctx       context.Context
			payload   any
			wantRes   any
			wantErr   []error
			wantTrace string
		}{
			{
				name: "success",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "res"))
					r.AddListener("beforeAct", rec.listen("before", nil))
					r.AddListener("afterAct", rec.listen("after", nil))
				},
				wantRes: "res", wantTrace: "before body after",
			},
			{
				name: "payload_update_and_replacement",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) {
						rec.add("body")
						return p.(int) * 10, nil
					}, UpdatePayload(func(_ context.Context, p any) (any, error) {
						rec.add("update")
						return p.(int) + 1, nil
					}))
					r.ReplaceAction("Act", func(ctx context.Context, p any, original Body) (any, error) {
						rec.add("replacement")
						return original(ctx, p)
					})
				},
				payload: 1, wantRes: 20, wantTrace: "update replacement body",
			},
			{
				name:    "not_found",
				setup:   func(r *Registry, rec *recorder) { r.AddListener("beforeAct", rec.listen("before", nil)) },
				wantErr: []error{ErrActionNotFound},
			},
			{
				name: "blocked",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "res"))
					r.BlockAction("Act", nil)
				},
				wantErr: []error{ErrBlocked},
			},
			{
				name: "aborted",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "res"))
					r.AddListener("beforeAct", rec.listen("before", Abort(reason)))
					r.AddListener("afterAct", rec.listen("after", nil))
				},
				wantErr: []error{ErrAborted, reason}, wantTrace: "before",
			},
			{
				name: "body_error",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
						rec.add("body")
						return nil, errBoom
					})
					r.AddListener("afterAct", rec.listen("after", nil))
				},
				wantErr: []error{ErrFailed, errBoom}, wantTrace: "body",
			},
			{
				name: "body_panic",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
						rec.add("body")
						panic("kaboom")
					})
				},
				wantErr: []error{ErrFailed, ErrPanicked}, wantTrace: "body",
			},
			{
				name: "ctx_done",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "res"))
					r.AddListener("beforeAct", rec.listen("before", nil))
				},
				ctx: cancelled, wantErr: []error{context.Canceled},
			},
			{
				name: "closed",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "res"))
					require.NoError(t, r.Close(context.Background()))
				},
				wantErr: []error{ErrClosed},
			},
		} {
			for _, way := range invokeWays {
				t.Run(tc.name+"/"+way.name, func(t *testing.T) {
					r := New()
					var rec recorder
					tc.setup(r, &rec)
					ctx := tc.ctx
					if ctx == nil {
						ctx = context.Background()
					}
					res, err := way.run(ctx, r, "Act", tc.payload)
					assert.Equal(t, tc.wantRes, res)
					if tc.wantErr == nil {
						assert.NoError(t, err)
					}
					for _, want := range tc.wantErr {
						assert.ErrorIs(t, err, want)
					}
					assert.Equal(t, tc.wantTrace, rec.trace())
				})
			}
		}
	})

	t.Run("Lifecycle_ctx_values_reach_every_stage", func(t *testing.T) {
		type key struct{}
		for _, concurrent := range []bool{false, true} {
			for _, way := range invokeWays {
				t.Run(fmt.Sprintf("concurrent=%v/%s", concurrent, way.name), func(t *testing.T) {
					r := New()
					var rec recorder
					see := func(stage string, ctx context.Context) {
						rec.add(fmt.Sprintf("%s=%v", stage, ctx.Value(key{})))
					}
					registerEveryStage(t, r, concurrent, see)
					ctx := context.WithValue(context.Background(), key{}, "v")
					_, err := way.run(ctx, r, "Act", nil)
					require.NoError(t, err)
					assert.Equal(t, "afterAct0=v afterAct1=v beforeAct0=v beforeAct1=v body=v replacement=v update=v", rec.sorted())
				})
			}
		}
	})

	t.Run("Lifecycle_cancellation_checkpoints", func(t *testing.T) {
		custom := errors.New("custom cause")
		for _, cause := range []struct {
			name  string
			cause error // given to cancel; nil means context.Canceled
			want  error
		}{
			{"canceled", nil, context.Canceled},
			{"cause", custom, custom},
		} {
			for _, tc := range []struct {
				name      string
				cancelIn  string // the stage that cancels the ctx; "" cancels before invoking
				wantTrace string
			}{
				{"step0_already_done", "", ""},
				{"before_before_phase", "update", "update"},
				{"between_sequential_before_listeners", "before1", "update before1"},
				{"before_body", "before2", "update before1 before2"},
			} {
				for _, way := range invokeWays {
					t.Run(cause.name+"/"+tc.name+"/"+way.name, func(t *testing.T) {
						r := New()
						var rec recorder
						ctx, cancel := context.WithCancelCause(context.Background())
						defer cancel(nil)
						stage := func(name string) {
							rec.add(name)
							if name == tc.cancelIn {
								cancel(cause.cause)
							}
						}
						mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
							stage("body")
							return "res", nil
						}, UpdatePayload(func(_ context.Context, p any) (any, error) {
							stage("update")
							return p, nil
						}))
						for _, name := range []string{"before1", "before2"} {
							r.AddListener("beforeAct", func(context.Context, any) error {
								stage(name)
								return nil
							})
						}
						r.ReplaceAction("Act", func(ctx context.Context, p any, original Body) (any, error) {
							stage("replacement")
							return original(ctx, p)
						})
						r.AddListener("afterAct", func(context.Context, any) error {
							stage("after")
							return nil
						})
						if tc.cancelIn == "" {
							cancel(cause.cause)
						}
						res, err := way.run(ctx, r, "Act", nil)
						assert.Nil(t, res)
						assert.ErrorIs(t, err, cause.want)
						assert.NotErrorIs(t, err, ErrAborted)
						assert.NotErrorIs(t, err, ErrFailed)
						var e *Error
						if assert.ErrorAs(t, err, &e) {
							assert.Nil(t, e.Kind)
							assert.Equal(t, "Act", e.Action)
							assert.Equal(t, cause.want, e.Err)
						}
						assert.Equal(t, tc.wantTrace, rec.trace())
					})
				}
			}
		}
	})

	t.Run("Lifecycle_result_stands_once_body_returned", func(t *testing.T) {
		custom := errors.New("custom cause")
		for _, way := range invokeWays {
			t.Run(way.name, func(t *testing.T) {
				r := New()
				var rec recorder
				ctx, cancel := context.WithCancelCause(context.Background())
				defer cancel(nil)
				mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
					rec.add("body")
					cancel(custom)
					return "res", nil
				})
				for _, name := range []string{"after1", "after2"} {
					r.AddListener("afterAct", func(ctx context.Context, _ any) error {
						rec.add(fmt.Sprintf("%s:%v", name, context.Cause(ctx) == custom))
						return nil
					})
				}
				res, err := way.run(ctx, r, "Act", nil)
				require.NoError(t, err)
				assert.Equal(t, "res", res)
				assert.Equal(t, "body after1:true after2:true", rec.trace())
			})
		}
	})

	t.Run("Lifecycle_after_listener_invokes_and_waits", func(t *testing.T) {
		// Seed example: an afterCompleteTask listener invokes MyAction; its
		// wait delays the outer future.
		synctest.Test(t, func(t *testing.T) {
			r := New()
			var rec recorder
			release := make(chan struct{})
			mustRegister(t, r, "CompleteTask", rec.body("CompleteTask", "completed"))
			mustRegister(t, r, "MyAction", func(context.Context, any) (any, error) {
				rec.add("MyAction:start")
				<-release
				rec.add("MyAction:end")
				return "mine", nil
			})
			r.AddListener("afterCompleteTask", func(ctx context.Context, p any) error {
				res, err := r.InvokeAction(ctx, "MyAction", p).Wait(ctx)
				rec.add(fmt.Sprintf("after:%v", res))
				return err
			})
			fut := r.InvokeAction(context.Background(), "CompleteTask", nil)
			synctest.Wait()
			assert.False(t, isDone(fut), "outer future done while its after-listener waits")
			assert.Equal(t, "CompleteTask MyAction:start", rec.trace())
			close(release)
			res, err := fut.Result()
			require.NoError(t, err)
			assert.Equal(t, "completed", res)
			assert.Equal(t, "CompleteTask MyAction:start MyAction:end after:mine", rec.trace())
		})
	})

	t.Run("Lifecycle_replacement_invokes_then_original", func(t *testing.T) {
		// Seed example: a WrapupTask replacement invokes SendMessage, then
		// its original.
		for _, way := range invokeWays {
			t.Run(way.name, func(t *testing.T) {
				r := New()
				var rec recorder
				mustRegister(t, r, "WrapupTask", rec.body("WrapupTask", "wrapped"))
				mustRegister(t, r, "SendMessage", func(_ context.Context, p any) (any, error) {
					rec.add("SendMessage:" + p.(string))
					return "sent", nil
				})
				r.AddListener("beforeSendMessage", rec.listen("beforeSendMessage", nil))
				r.ReplaceAction("WrapupTask", func(ctx context.Context, p any, original Body) (any, error) {
					if _, err := way.run(ctx, r, "SendMessage", "goodbye"); err != nil {
						return nil, err
					}
					return original(ctx, p)
				})
				res, err := way.run(context.Background(), r, "WrapupTask", nil)
				require.NoError(t, err)
				assert.Equal(t, "wrapped", res)
				assert.Equal(t, "beforeSendMessage SendMessage:goodbye WrapupTask", rec.trace())
			})
		}
	})

	t.Run("Lifecycle_invoke_from_every_stage", func(t *testing.T) {
		for _, stage := range []string{"update", "before", "replacement", "body", "after"} {
			for _, way := range invokeWays {
				t.Run(stage+"/"+way.name, func(t *testing.T) {
					r := New()
					var rec recorder
					mustRegister(t, r, "Inner", func(_ context.Context, p any) (any, error) {
						rec.add("inner")
						return "inner-result", nil
					})
					nested := func(ctx context.Context, at string) {
						if at == stage {
							res, err := way.run(ctx, r, "Inner", nil)
							assert.NoError(t, err)
							rec.add(fmt.Sprintf("%s:%v", at, res))
						}
					}
					mustRegister(t, r, "Outer", func(ctx context.Context, p any) (any, error) {
						nested(ctx, "body")
						return "outer", nil
					}, UpdatePayload(func(ctx context.Context, p any) (any, error) {
						nested(ctx, "update")
						return p, nil
					}))
					r.AddListener("beforeOuter", func(ctx context.Context, _ any) error { nested(ctx, "before"); return nil })
					r.AddListener("afterOuter", func(ctx context.Context, _ any) error { nested(ctx, "after"); return nil })
					r.ReplaceAction("Outer", func(ctx context.Context, p any, original Body) (any, error) {
						nested(ctx, "replacement")
						return original(ctx, p)
					})
					res, err := r.Call(context.Background(), "Outer", nil)
					require.NoError(t, err)
					assert.Equal(t, "outer", res)
					assert.Equal(t, "inner "+stage+":inner-result", rec.trace())
				})
			}
		}
	})

	t.Run("InvokeAction_nil_ctx_panics", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return nil, nil })
		setupPanicMessage(t, "InvokeAction with a nil ctx", func() { r.InvokeAction(nilCtx, "Act", nil) })
		setupPanicMessage(t, "Call with a nil ctx", func() { _, _ = r.Call(nilCtx, "Act", nil) })
	})
}

// assertKind checks that err matches kind and is the [*Error] of an
// invocation of action.
func assertKind(t *testing.T, err, kind error, action string) {
	t.Helper()
	assert.ErrorIs(t, err, kind)
	var e *Error
	if assert.ErrorAs(t, err, &e) {
		assert.Equal(t, action, e.Action)
	}
}
