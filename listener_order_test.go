package actions_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionstest"
)

// The order in which listeners run (the package docs, "Listeners"), told by
// the steps a recorder records. Every registry is a test's
// (actionstest.New): each test also fails if it leaves an invocation in
// flight or an error reaches the error handler.

// orderPhases are the two phases, for tests that hold for both.
var orderPhases = []struct {
	name  string
	event string // event of action "A"
	after bool
}{
	{"before", "beforeA", false},
	{"after", "afterA", true},
}

// newOrderTest returns a test's registry with action "A" registered, whose
// body records the step "body", and its recorder.
func newOrderTest(t *testing.T, opts []actions.Option, act ...actions.ActionOption) (*actions.Registry, *actionstest.Recorder) {
	t.Helper()
	reg := actionstest.New(t, opts...)
	rec := actionstest.Record(reg)
	_, err := reg.RegisterAction("A", rec.Body("body", nil), act...)
	require.NoError(t, err)
	return reg, rec
}

// call invokes the action name and requires it to succeed.
func call(t *testing.T, reg *actions.Registry, name string) {
	t.Helper()
	_, err := reg.Call(t.Context(), name, nil)
	require.NoError(t, err)
}

func TestListenerOrder(t *testing.T) {
	t.Run("Listeners listening before registration", func(t *testing.T) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		reg.AddListener("beforeA", rec.Listener("before", nil))
		reg.AddListener("afterA", rec.Listener("after", nil))
		_, err := reg.Call(t.Context(), "A", nil)
		require.ErrorIs(t, err, actions.ErrActionNotFound)
		require.Empty(t, rec.Steps())

		_, err = reg.RegisterAction("A", rec.Body("body", nil))
		require.NoError(t, err)
		call(t, reg, "A")
		rec.AssertSteps(t, "before", "body", "after")
	})

	t.Run("Listeners handle works before registration", func(t *testing.T) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		remove := reg.AddListener("beforeA", rec.Listener("L", nil))
		assert.True(t, remove())
		assert.False(t, remove())
		_, err := reg.RegisterAction("A", rec.Body("body", nil))
		require.NoError(t, err)
		call(t, reg, "A")
		rec.AssertSteps(t, "body")
	})

	t.Run("Listeners RemoveAllListeners", func(t *testing.T) {
		reg, rec := newOrderTest(t, nil)
		_, err := reg.RegisterAction("B", rec.Body("B", nil))
		require.NoError(t, err)
		handle := reg.AddListener("beforeA", rec.Listener("a1", nil))
		reg.AddListener("beforeA", rec.Listener("a2", nil), actions.Priority(3))
		reg.AddListener("beforeA", rec.Listener("a3", nil), actions.Once())
		reg.AddListener("afterA", rec.Listener("afterA", nil))
		reg.AddListener("beforeB", rec.Listener("beforeB", nil))

		assert.Equal(t, 3, reg.RemoveAllListeners("beforeA"))
		assert.Empty(t, reg.Listeners("beforeA"))
		assert.False(t, handle(), "a handle of a listener removed by RemoveAllListeners removes nothing")
		assert.Equal(t, 0, reg.RemoveAllListeners("beforeA"))
		assert.Equal(t, 0, reg.RemoveAllListeners("beforeNeverSeen"))

		call(t, reg, "A")
		call(t, reg, "B")
		rec.AssertSteps(t, "body", "afterA", "beforeB", "B")

		// Listening again after removing all works.
		reg.AddListener("beforeA", rec.Listener("again", nil))
		call(t, reg, "A")
		rec.AssertSteps(t, "body", "afterA", "beforeB", "B", "again", "body", "afterA")
	})

	t.Run("Listeners registration order", func(t *testing.T) {
		for _, ph := range orderPhases {
			t.Run(ph.name, func(t *testing.T) {
				reg := actionstest.New(t)
				rec := actionstest.Record(reg)
				_, err := reg.RegisterAction("A", actionstest.Returns(nil).Body)
				require.NoError(t, err)
				for i := range 8 {
					reg.AddListener(ph.event, rec.Listener(fmt.Sprint(i), nil))
				}
				call(t, reg, "A")
				rec.AssertSteps(t, "0", "1", "2", "3", "4", "5", "6", "7")
			})
		}
	})

	t.Run("Listeners priority, higher first, stable ties, inspectable", func(t *testing.T) {
		type add struct {
			name     string
			priority *int // nil: no Priority option, the default
			once     bool
		}
		p := func(n int) *int { return &n }
		cases := []struct {
			name string
			adds []add
			want string
		}{
			{"default keeps order", []add{{"a", nil, false}, {"b", nil, false}, {"c", nil, false}}, "a b c"},
			{"higher first", []add{{"low", p(1), false}, {"high", p(9), false}, {"mid", p(5), false}}, "high mid low"},
			{"default is zero", []add{{"neg", p(-1), false}, {"def", nil, false}, {"pos", p(1), false}, {"zero", p(0), false}}, "pos def zero neg"},
			{"ties keep registration order", []add{{"a", p(0), false}, {"b", p(5), false}, {"c", p(0), true}, {"d", p(-1), false}, {"e", p(5), false}, {"f", p(5), false}}, "b e f a c d"},
		}
		for _, c := range cases {
			for _, ph := range orderPhases {
				t.Run(c.name+"/"+ph.name, func(t *testing.T) {
					reg := actionstest.New(t)
					rec := actionstest.Record(reg)
					_, err := reg.RegisterAction("A", actionstest.Returns(nil).Body)
					require.NoError(t, err)
					byName := map[string]add{}
					for _, a := range c.adds {
						opts := []actions.ListenerOption{actions.Named(a.name)}
						if a.priority != nil {
							opts = append(opts, actions.Priority(*a.priority))
						}
						if a.once {
							opts = append(opts, actions.Once())
						}
						reg.AddListener(ph.event, rec.Listener(a.name, nil), opts...)
						byName[a.name] = a
					}
					want := strings.Fields(c.want)
					var wantInfo []actions.ListenerInfo
					for _, name := range want {
						a := byName[name]
						info := actions.ListenerInfo{Name: name, Once: a.once}
						if a.priority != nil {
							info.Priority = *a.priority
						}
						wantInfo = append(wantInfo, info)
					}
					gotInfo := reg.Listeners(ph.event)
					for i := range gotInfo {
						gotInfo[i].Source = "" // reported where it was added, which is not what this test is about
					}
					assert.Equal(t, wantInfo, gotInfo, "Listeners reports the effective order")
					call(t, reg, "A")
					rec.AssertSteps(t, want...) // listeners run in the reported order
				})
			}
		}
	})

	t.Run("Listeners sequential by default", func(t *testing.T) {
		modes := []struct {
			name string
			reg  []actions.Option
			act  []actions.ActionOption
		}{
			{"default", nil, nil},
			{"Concurrent(false) overrides WithConcurrentPhases", []actions.Option{actions.WithConcurrentPhases()}, []actions.ActionOption{actions.Concurrent(false)}},
		}
		for _, m := range modes {
			for _, ph := range orderPhases {
				t.Run(m.name+"/"+ph.name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						reg, rec := newOrderTest(t, m.reg, m.act...)
						first := actionstest.Blocking()
						reg.AddListener(ph.event, rec.Listener("1start", func(ctx context.Context, p any) error {
							err := first.Listener(ctx, p)
							rec.Step("1end")
							return err
						}))
						reg.AddListener(ph.event, rec.Listener("2", nil))
						reg.AddListener(ph.event, rec.Listener("3", nil))
						fut := reg.InvokeAction(t.Context(), "A", nil)
						synctest.Wait()
						// Listener 1 is blocked: a sequential phase has started
						// no other listener.
						if ph.after {
							rec.AssertSteps(t, "body", "1start")
						} else {
							rec.AssertSteps(t, "1start")
						}
						first.Release()
						_, err := fut.Wait(t.Context())
						require.NoError(t, err)
						if ph.after {
							rec.AssertSteps(t, "body", "1start", "1end", "2", "3")
						} else {
							rec.AssertSteps(t, "1start", "1end", "2", "3", "body")
						}
					})
				})
			}
		}
	})

	t.Run("Listeners concurrent phases wait for every listener", func(t *testing.T) {
		modes := []struct {
			name string
			reg  []actions.Option
			act  []actions.ActionOption
		}{
			{"Concurrent(true)", nil, []actions.ActionOption{actions.Concurrent(true)}},
			{"WithConcurrentPhases", []actions.Option{actions.WithConcurrentPhases()}, nil},
		}
		for _, m := range modes {
			for _, ph := range orderPhases {
				t.Run(m.name+"/"+ph.name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						reg, rec := newOrderTest(t, m.reg, m.act...)
						slow := actionstest.Blocking()
						reg.AddListener(ph.event, func(ctx context.Context, p any) error {
							err := slow.Listener(ctx, p)
							rec.Step("slow")
							return err
						})
						reg.AddListener(ph.event, rec.Listener("fast", nil))
						fut := reg.InvokeAction(t.Context(), "A", nil)
						synctest.Wait()
						select {
						case <-fut.Done():
							t.Error("the invocation completed while a listener was still running")
						default:
						}
						if ph.after {
							rec.AssertSteps(t, "body", "fast")
						} else {
							rec.AssertSteps(t, "fast") // the body must wait for the whole before phase
						}
						slow.Release()
						_, err := fut.Wait(t.Context())
						require.NoError(t, err)
						if ph.after {
							rec.AssertSteps(t, "body", "fast", "slow")
						} else {
							rec.AssertSteps(t, "fast", "slow", "body")
						}
					})
				})
			}
		}
	})
}
