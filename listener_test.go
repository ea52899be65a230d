package actions

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lsPhases are the two phases, for tests that hold for both.
var lsPhases = []struct {
	name  string
	event string // event of action "A"
	after bool
}{
	{"before", "beforeA", false},
	{"after", "afterA", true},
}

func TestListener(t *testing.T) {
	ctx := context.Background()
	nop := func(context.Context, any) error { return nil }

	t.Run("Listeners event strings are parsed exactly", func(t *testing.T) {
		cases := []struct {
			event  string
			ok     bool
			after  bool
			action string
		}{
			{"beforeAcceptTask", true, false, "AcceptTask"},
			{"afterAcceptTask", true, true, "AcceptTask"},
			{"beforeacceptTask", true, false, "acceptTask"},
			{"beforeX", true, false, "X"},
			{"afterX", true, true, "X"},
			{"beforebefore", true, false, "before"},
			{"afterafter", true, true, "after"},
			{"beforeafterX", true, false, "afterX"},
			{"", false, false, ""},
			{"before", false, false, ""},
			{"after", false, false, ""},
			{"Before X", false, false, ""},
			{"BeforeX", false, false, ""},
			{"AfterX", false, false, ""},
			{"BEFOREX", false, false, ""},
			{"onX", false, false, ""},
			{"X", false, false, ""},
			{"AcceptTask", false, false, ""},
			{" beforeX", false, false, ""},
			{"befor", false, false, ""},
			{"afte", false, false, ""},
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%q", c.event), func(t *testing.T) {
				after, action, ok := ParseEvent(c.event)
				assert.Equal(t, c.ok, ok)
				assert.Equal(t, c.after, after)
				assert.Equal(t, c.action, action)

				r := New()
				entry := map[string]func(){
					"AddListener":        func() { r.AddListener(c.event, nop) },
					"RemoveAllListeners": func() { r.RemoveAllListeners(c.event) },
					"Listeners":          func() { r.Listeners(c.event) },
				}
				for method, call := range entry {
					if c.ok {
						v, panicked := panicValue(call)
						assert.False(t, panicked, "%s must accept a legal event; it panicked with %s", method, safeSprint(v))
						continue
					}
					// An illegal event is rejected loudly.
					if msg := setupPanicMessage(t, method, call); msg != "" {
						assert.Contains(t, msg, fmt.Sprintf("%q", c.event), "%s panic names the event", method)
					}
				}
				if !c.ok {
					return
				}
				// A legal event reaches exactly the parsed action and phase.
				var rec recorder
				r = New()
				r.AddListener(c.event, rec.listen("L", nil))
				mustRegister(t, r, c.action, rec.body("body", nil))
				_, err := r.Call(ctx, c.action, nil)
				require.NoError(t, err)
				want := "L body"
				if c.after {
					want = "body L"
				}
				assert.Equal(t, want, rec.trace())
			})
		}
	})

	t.Run("Listeners nil listener panics", func(t *testing.T) {
		setupPanicMessage(t, "AddListener with a nil listener", func() { New().AddListener("beforeA", nil) })
	})

	t.Run("Listeners typed helpers listen too", func(t *testing.T) {
		type task struct{ sid string }
		var rec recorder
		r := New()
		a := Typed[*task, string](r, "AcceptTask")
		a.Before(func(_ context.Context, p *task) error { rec.add("typed before " + p.sid); return nil })
		a.After(func(_ context.Context, p *task) error { rec.add("typed after " + p.sid); return nil })
		r.AddListener("beforeAcceptTask", rec.listen("untyped before", nil))
		_, err := a.Register(func(_ context.Context, p *task) (string, error) {
			rec.add("body " + p.sid)
			return "ok", nil
		})
		require.NoError(t, err)
		res, err := a.Call(ctx, &task{sid: "WT1"})
		require.NoError(t, err)
		assert.Equal(t, "ok", res)
		assert.Equal(t, "typed before WT1 untyped before body WT1 typed after WT1", rec.trace())
	})

	t.Run("Listeners handle removes exactly its registration", func(t *testing.T) {
		for _, ph := range lsPhases {
			t.Run(ph.name, func(t *testing.T) {
				var rec recorder
				r := New()
				mustRegister(t, r, "A", rec.body("body", nil))
				// One function value, added twice: the handles tell the
				// registrations apart where the function cannot.
				fn := rec.listen("L", nil)
				remove1 := r.AddListener(ph.event, fn)
				remove2 := r.AddListener(ph.event, fn)
				// The same function in the other phase is another registration.
				other := "afterA"
				if ph.after {
					other = "beforeA"
				}
				r.AddListener(other, fn)

				call := func() string {
					rec = recorder{}
					_, err := r.Call(ctx, "A", nil)
					require.NoError(t, err)
					return rec.trace()
				}
				// trace is the expected trace with n registrations left in
				// the phase under test and one in the other.
				trace := func(n int) string {
					ls := strings.Repeat("L ", n)
					if ph.after {
						return "L body " + ls
					}
					return ls + "body L "
				}
				require.Equal(t, trace(2), call()+" ")

				assert.True(t, remove1())
				assert.False(t, remove1(), "second removal reports false")
				assert.Equal(t, trace(1), call()+" ")
				assert.Len(t, r.Listeners(ph.event), 1)

				assert.True(t, remove2())
				assert.False(t, remove2())
				assert.False(t, remove1())
				assert.Equal(t, trace(0), call()+" ")
				assert.Empty(t, r.Listeners(ph.event))
				assert.Len(t, r.Listeners(other), 1)
			})
		}
	})

	t.Run("Listeners Listeners of an unknown event is empty", func(t *testing.T) {
		assert.Empty(t, New().Listeners("beforeNothing"))
	})

	t.Run("Listeners snapshot per phase", func(t *testing.T) {
		cases := []struct {
			name string
			// setup adds the listeners of action A; the first invocation's
			// trace must be first, the second's second.
			setup         func(r *Registry, rec *recorder)
			first, second string
		}{
			{"before-listener adds an after-listener: runs in this invocation", func(r *Registry, rec *recorder) {
				r.AddListener("beforeA", func(context.Context, any) error {
					rec.add("adder")
					r.AddListener("afterA", rec.listen("added", nil))
					return nil
				}, Once())
			}, "adder body added", "body added"},
			{"before-listener adds a before-listener: not in this phase", func(r *Registry, rec *recorder) {
				r.AddListener("beforeA", func(context.Context, any) error {
					rec.add("adder")
					r.AddListener("beforeA", rec.listen("added", nil))
					return nil
				}, Once())
			}, "adder body", "added body"},
			{"before-listener removes a later before-listener: still in this phase", func(r *Registry, rec *recorder) {
				var remove func() bool
				r.AddListener("beforeA", func(context.Context, any) error {
					rec.add("remover")
					remove()
					return nil
				}, Once())
				remove = r.AddListener("beforeA", rec.listen("removed", nil))
			}, "remover removed body", "body"},
			{"before-listener removes an after-listener: not in the after phase", func(r *Registry, rec *recorder) {
				remove := r.AddListener("afterA", rec.listen("removed", nil))
				r.AddListener("beforeA", func(context.Context, any) error {
					rec.add("remover")
					remove()
					return nil
				}, Once())
			}, "remover body", "body"},
			{"before-listener removes all before-listeners: still in this phase", func(r *Registry, rec *recorder) {
				r.AddListener("beforeA", func(context.Context, any) error {
					rec.add("remover")
					r.RemoveAllListeners("beforeA")
					return nil
				})
				r.AddListener("beforeA", rec.listen("other", nil))
			}, "remover other body", "body"},
			{"after-listener adds an after-listener: not in this phase", func(r *Registry, rec *recorder) {
				r.AddListener("afterA", func(context.Context, any) error {
					rec.add("adder")
					r.AddListener("afterA", rec.listen("added", nil))
					return nil
				}, Once())
			}, "body adder", "body added"},
			{"after-listener removes a later after-listener: still in this phase", func(r *Registry, rec *recorder) {
				var remove func() bool
				r.AddListener("afterA", func(context.Context, any) error {
					rec.add("remover")
					remove()
					return nil
				}, Once())
				remove = r.AddListener("afterA", rec.listen("removed", nil))
			}, "body remover removed", "body"},
		}
		for _, c := range cases {
			for _, mode := range phaseModes {
				t.Run(c.name+"/"+mode.name, func(t *testing.T) {
					var rec recorder
					r := New()
					mustRegister(t, r, "A", rec.body("body", nil), mode.act...)
					c.setup(r, &rec)
					_, err := r.Call(ctx, "A", nil)
					require.NoError(t, err)
					if mode.act == nil {
						assert.Equal(t, c.first, rec.trace(), "first invocation")
					} else {
						// Within a concurrent phase the order is not fixed.
						assert.Equal(t, lsSorted(c.first), rec.sorted(), "first invocation")
					}
					rec = recorder{}
					_, err = r.Call(ctx, "A", nil)
					require.NoError(t, err)
					assert.Equal(t, c.second, rec.trace(), "second invocation")
				})
			}
		}
	})

	t.Run("Listeners removal is never half-done", func(t *testing.T) {
		// Each invocation's before-listener notes whether the removal of the
		// after-listener had returned; if it had, the after phase starts
		// later and must not run the removed listener.
		type probe struct{ removed bool }
		r := New()
		var removed atomic.Bool
		var ran, violations atomic.Int32
		mustRegister(t, r, "A", func(context.Context, any) (any, error) { return nil, nil })
		r.AddListener("beforeA", func(_ context.Context, p any) error {
			p.(*probe).removed = removed.Load()
			return nil
		})
		remove := r.AddListener("afterA", func(_ context.Context, p any) error {
			ran.Add(1)
			if p.(*probe).removed {
				violations.Add(1)
			}
			return nil
		})

		started := make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 200 {
					_, err := r.Call(ctx, "A", &probe{})
					assert.NoError(t, err)
					once.Do(func() { close(started) })
				}
			})
		}
		<-started
		require.True(t, remove())
		removed.Store(true)
		wg.Wait()
		before := ran.Load()
		_, err := r.Call(ctx, "A", &probe{})
		require.NoError(t, err)
		assert.Equal(t, before, ran.Load(), "an invocation started after the removal ran the listener")
		assert.Zero(t, violations.Load(), "a phase that started after the removal returned ran the listener")
	})

	t.Run("Listeners concurrent phases start every listener together", func(t *testing.T) {
		for _, m := range concurrentModes {
			for _, ph := range lsPhases {
				t.Run(m.name+"/"+ph.name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						const n = 5
						var rec recorder
						r := New(m.reg...)
						mustRegister(t, r, "A", rec.body("body", nil), m.act...)
						var started atomic.Int32
						all := make(chan struct{})
						for range n {
							// Each listener waits for all the others to have
							// started: a sequential phase would wait forever,
							// so the wait is bounded on the bubble's clock.
							r.AddListener(ph.event, func(context.Context, any) error {
								if started.Add(1) == n {
									close(all)
								}
								select {
								case <-all:
									rec.add("met")
								case <-time.After(time.Hour):
									rec.add("alone")
								}
								return nil
							})
						}
						_, err := r.Call(t.Context(), "A", nil)
						require.NoError(t, err)
						met := strings.TrimSpace(strings.Repeat("met ", n))
						if ph.after {
							assert.Equal(t, "body "+met, rec.trace())
						} else {
							assert.Equal(t, met+" body", rec.trace())
						}
					})
				})
			}
		}
	})

	t.Run("Listeners Once runs once", func(t *testing.T) {
		for _, ph := range lsPhases {
			t.Run(ph.name, func(t *testing.T) {
				var rec recorder
				r := New()
				mustRegister(t, r, "A", rec.body("body", nil))
				remove := r.AddListener(ph.event, rec.listen("once", nil), Once(), Named("once"))
				require.Equal(t, []ListenerInfo{{Name: "once", Once: true}}, noListenerSources(r.Listeners(ph.event)))
				for range 3 {
					_, err := r.Call(ctx, "A", nil)
					require.NoError(t, err)
				}
				assert.Equal(t, 1, strings.Count(rec.trace(), "once"))
				assert.Empty(t, r.Listeners(ph.event), "a fired once-listener is gone")
				assert.False(t, remove(), "a fired once-listener has nothing left to remove")
			})
		}
	})

	t.Run("Listeners Once runs exactly once under concurrent invocations", func(t *testing.T) {
		for _, m := range phaseModes {
			for _, ph := range lsPhases {
				t.Run(m.name+"/"+ph.name, func(t *testing.T) {
					r := New()
					mustRegister(t, r, "A", func(context.Context, any) (any, error) { return nil, nil }, m.act...)
					var runs, others atomic.Int32
					r.AddListener(ph.event, func(context.Context, any) error { others.Add(1); return nil })
					r.AddListener(ph.event, func(context.Context, any) error { runs.Add(1); return nil }, Once())
					r.AddListener(ph.event, func(context.Context, any) error { others.Add(1); return nil })
					const n = 64
					start := make(chan struct{})
					var wg sync.WaitGroup
					for i := range n {
						wg.Go(func() {
							<-start
							// Each way to invoke in turn.
							_, err := invokeWays[i%len(invokeWays)].run(ctx, r, "A", nil)
							assert.NoError(t, err)
						})
					}
					close(start)
					wg.Wait()
					assert.EqualValues(t, 1, runs.Load())
					assert.EqualValues(t, 2*n, others.Load())
					assert.Len(t, r.Listeners(ph.event), 2)
				})
			}
		}
	})
}

// lsSorted sorts the words of a trace, to compare with recorder.sorted.
func lsSorted(trace string) string {
	var rec recorder
	for w := range strings.FieldsSeq(trace) {
		rec.add(w)
	}
	return rec.sorted()
}
