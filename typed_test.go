package actions

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// taskPayload is the payload of the typed actions of these tests.
type taskPayload struct {
	SID       string
	Confirmed bool
}

func TestTyped(t *testing.T) {
	ctx := context.Background()

	t.Run("Typed_typed_register_untyped_use", func(t *testing.T) {
		r := New()
		var rec recorder
		accept := Typed[*taskPayload, string](r, "AcceptTask")
		assert.Equal(t, "AcceptTask", accept.Name())
		assert.Same(t, r, accept.Registry())
		_, err := accept.Register(func(_ context.Context, p *taskPayload) (string, error) {
			rec.add("body:" + p.SID)
			return "accepted " + p.SID, nil
		})
		require.NoError(t, err)
		assert.True(t, r.Registered("AcceptTask"))
		r.AddListener("beforeAcceptTask", func(_ context.Context, p any) error {
			rec.add("untyped-before:" + p.(*taskPayload).SID)
			return nil
		})
		accept.After(func(_ context.Context, p *taskPayload) error {
			rec.add("typed-after:" + p.SID)
			return nil
		})
		r.ReplaceAction("AcceptTask", func(ctx context.Context, p any, original Body) (any, error) {
			rec.add("untyped-replacement")
			return original(ctx, p)
		})

		res, err := r.Call(ctx, "AcceptTask", &taskPayload{SID: "WT1"})
		require.NoError(t, err)
		assert.Equal(t, "accepted WT1", res)
		assert.Equal(t, "untyped-before:WT1 untyped-replacement body:WT1 typed-after:WT1", rec.trace())

		typedRes, err := accept.Call(ctx, &taskPayload{SID: "WT2"})
		require.NoError(t, err)
		assert.Equal(t, "accepted WT2", typedRes)
		typedRes, err = accept.Invoke(ctx, &taskPayload{SID: "WT3"}).Wait(ctx)
		require.NoError(t, err)
		assert.Equal(t, "accepted WT3", typedRes)
		res, err = r.InvokeAction(ctx, "AcceptTask", &taskPayload{SID: "WT4"}).Result()
		require.NoError(t, err)
		assert.Equal(t, "accepted WT4", res)

		_, err = r.RegisterAction("AcceptTask", func(context.Context, any) (any, error) { return nil, nil })
		assert.ErrorIs(t, err, ErrAlreadyRegistered, "the typed registration is the name's registration")
		_, err = Typed[*taskPayload, string](r, "AcceptTask").Register(func(context.Context, *taskPayload) (string, error) { return "", nil })
		assert.ErrorIs(t, err, ErrAlreadyRegistered, "a second handle sees the same action")
	})

	t.Run("Typed_untyped_register_typed_use", func(t *testing.T) {
		r := New()
		var rec recorder
		mustRegister(t, r, "Greet", func(_ context.Context, p any) (any, error) {
			rec.add("body")
			return "hello " + p.(string), nil
		})
		greet := Typed[string, string](r, "Greet")
		greet.Before(func(_ context.Context, p string) error {
			rec.add("typed-before:" + p)
			return nil
		})
		greet.After(func(_ context.Context, p string) error {
			rec.add("typed-after:" + p)
			return nil
		})
		res, err := greet.Call(ctx, "bob")
		require.NoError(t, err)
		assert.Equal(t, "hello bob", res)
		res, err = greet.Invoke(ctx, "amy").Result()
		require.NoError(t, err)
		assert.Equal(t, "hello amy", res)
		assert.Equal(t, "typed-before:bob body typed-after:bob typed-before:amy body typed-after:amy", rec.trace())
		assert.Len(t, r.Listeners("beforeGreet"), 1, "typed listeners are the name's listeners")
	})

	t.Run("Typed_wrong_payload_type_fails_never_panics", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			register func(r *Registry, rec *recorder)
			payload  any
			want     reflect.Type
		}{
			{"string_for_pointer", func(r *Registry, rec *recorder) {
				_, err := Typed[*taskPayload, string](r, "Act").Register(func(context.Context, *taskPayload) (string, error) {
					rec.add("body")
					return "", nil
				})
				require.NoError(t, err)
			}, "WT1", reflect.TypeFor[*taskPayload]()},
			{"value_for_pointer", func(r *Registry, rec *recorder) {
				_, err := Typed[*taskPayload, string](r, "Act").Register(func(context.Context, *taskPayload) (string, error) {
					rec.add("body")
					return "", nil
				})
				require.NoError(t, err)
			}, taskPayload{SID: "WT1"}, reflect.TypeFor[*taskPayload]()},
			{"int_for_string", func(r *Registry, rec *recorder) {
				_, err := Typed[string, int](r, "Act").Register(func(context.Context, string) (int, error) {
					rec.add("body")
					return 0, nil
				})
				require.NoError(t, err)
			}, 42, reflect.TypeFor[string]()},
			{"nil_for_int", func(r *Registry, rec *recorder) {
				_, err := Typed[int, int](r, "Act").Register(func(context.Context, int) (int, error) {
					rec.add("body")
					return 0, nil
				})
				require.NoError(t, err)
			}, nil, reflect.TypeFor[int]()},
		} {
			for _, way := range invokeWays {
				t.Run(tc.name+"/"+way.name, func(t *testing.T) {
					r := New()
					var rec recorder
					tc.register(r, &rec)
					r.AddListener("beforeAct", rec.listen("before", nil))
					r.AddListener("afterAct", rec.listen("after", nil))
					var (
						res any
						err error
					)
					require.NotPanics(t, func() { res, err = way.run(ctx, r, "Act", tc.payload) })
					assert.Nil(t, res)
					assert.ErrorIs(t, err, ErrPayloadType)
					var e *Error
					require.ErrorAs(t, err, &e)
					assert.Equal(t, "Act", e.Action)
					var pe *PayloadTypeError
					require.ErrorAs(t, err, &pe)
					assert.Equal(t, tc.want, pe.Want)
					assert.Equal(t, reflect.TypeOf(tc.payload), pe.Got)
					assert.False(t, pe.Result)
					assert.True(t, strings.HasPrefix(err.Error(), "actions: Act"), err.Error())
					assert.Empty(t, rec.trace(), "no stage runs")
				})
			}
		}
	})

	t.Run("Typed_nil_payload_is_zero_of_nilable_type", func(t *testing.T) {
		r := New()
		act := Typed[*taskPayload, string](r, "Act")
		_, err := act.Register(func(_ context.Context, p *taskPayload) (string, error) {
			return fmt.Sprint(p == nil), nil
		})
		require.NoError(t, err)
		res, err := r.Call(ctx, "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, "true", res)
	})

	t.Run("Typed_typed_hooks_on_untyped_action_never_panic", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			hook func(a Action[int, int])
		}{
			{"Before", func(a Action[int, int]) { a.Before(func(context.Context, int) error { return nil }) }},
			{"After", func(a Action[int, int]) { a.After(func(context.Context, int) error { return nil }) }},
			{"Replace", func(a Action[int, int]) {
				a.Replace(func(ctx context.Context, p int, original func(context.Context, int) (int, error)) (int, error) {
					return original(ctx, p)
				})
			}},
		} {
			for _, way := range invokeWays {
				t.Run(tc.name+"/"+way.name, func(t *testing.T) {
					var sink errorSink
					r := New(WithErrorHandler(sink.handle))
					mustRegister(t, r, "Loose", func(_ context.Context, p any) (any, error) { return p, nil })
					tc.hook(Typed[int, int](r, "Loose"))
					var err error
					require.NotPanics(t, func() { _, err = way.run(ctx, r, "Loose", "not an int") })
					if tc.name == "After" {
						// The result stands; the listener's failure goes to the
						// error handler (Aborting and errors).
						assert.NoError(t, err)
						require.Len(t, sink.all(), 1)
						err = sink.all()[0]
					}
					assert.ErrorIs(t, err, ErrPayloadType)
					var pe *PayloadTypeError
					assert.ErrorAs(t, err, &pe)
				})
			}
		}
	})

	t.Run("Typed_DeduplicateBy_on_untyped_action_wrong_payload", func(t *testing.T) {
		// Like the other typed hooks (Before, Replace, UpdatePayloadOf), a
		// typed key must report a payload of another type as such, not call
		// the key with a zero P (a nil *taskPayload here).
		for _, tc := range []struct {
			name string
			opt  ActionOption
		}{
			{"pointer", DeduplicateBy(func(p *taskPayload) string { return p.SID }, RejectPending)},
			{"value", DeduplicateBy(func(p int) string { return fmt.Sprint(p) }, RejectPending)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := New()
				var rec recorder
				mustRegister(t, r, "Loose", rec.body("body", "ran"), tc.opt)
				var err error
				require.NotPanics(t, func() { _, err = r.Call(ctx, "Loose", "not the key's type") })
				assert.ErrorIs(t, err, ErrPayloadType)
				var pe *PayloadTypeError
				assert.ErrorAs(t, err, &pe)
				assert.Empty(t, rec.trace())
			})
		}
	})

	t.Run("Typed_typed_result_mismatch", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "Answer", func(context.Context, any) (any, error) { return 42, nil })
		wrong := Typed[string, string](r, "Answer")
		check := func(t *testing.T, res string, err error) {
			t.Helper()
			assert.Empty(t, res)
			assert.ErrorIs(t, err, ErrPayloadType)
			var pe *PayloadTypeError
			require.ErrorAs(t, err, &pe)
			assert.True(t, pe.Result)
			assert.Equal(t, reflect.TypeFor[string](), pe.Want)
			assert.Equal(t, reflect.TypeFor[int](), pe.Got)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "Answer", e.Action)
		}
		var (
			res string
			err error
		)
		require.NotPanics(t, func() { res, err = wrong.Call(ctx, "q") })
		check(t, res, err)
		fut := wrong.Invoke(ctx, "q")
		res, err = fut.Wait(ctx)
		check(t, res, err)
		res, err = fut.Result()
		check(t, res, err)

		v, err := r.Call(ctx, "Answer", "q")
		require.NoError(t, err, "the untyped API does not check results")
		assert.Equal(t, 42, v)
		n, err := Typed[string, int](r, "Answer").Call(ctx, "q")
		require.NoError(t, err)
		assert.Equal(t, 42, n)

		// A typed replacement whose original returns another type.
		wrong.Replace(func(ctx context.Context, p string, original func(context.Context, string) (string, error)) (string, error) {
			return original(ctx, p)
		})
		_, err = r.Call(ctx, "Answer", "q")
		assert.ErrorIs(t, err, ErrPayloadType)
		var pe *PayloadTypeError
		require.ErrorAs(t, err, &pe)
		assert.True(t, pe.Result)
	})

	t.Run("Typed_typed_replace", func(t *testing.T) {
		r := New()
		var rec recorder
		act := Typed[*taskPayload, string](r, "AcceptTask")
		_, err := act.Register(func(_ context.Context, p *taskPayload) (string, error) {
			rec.add("body:" + p.SID)
			return "accepted " + p.SID, nil
		})
		require.NoError(t, err)
		remove := act.Replace(func(ctx context.Context, p *taskPayload, original func(context.Context, *taskPayload) (string, error)) (string, error) {
			rec.add("replacement:" + p.SID)
			res, err := original(ctx, &taskPayload{SID: p.SID + "-alt"})
			return "[" + res + "]", err
		})
		res, err := act.Call(ctx, &taskPayload{SID: "WT1"})
		require.NoError(t, err)
		assert.Equal(t, "[accepted WT1-alt]", res)
		assert.Equal(t, "replacement:WT1 body:WT1-alt", rec.trace())
		assert.True(t, remove())
		res, err = act.Call(ctx, &taskPayload{SID: "WT2"})
		require.NoError(t, err)
		assert.Equal(t, "accepted WT2", res)
	})

	t.Run("Typed_typed_before_aborts_after_sees_payload", func(t *testing.T) {
		// Seed example: a listener asks the agent to confirm and aborts if not.
		r := New()
		var rec recorder
		act := Typed[*taskPayload, string](r, "AcceptTask")
		_, err := act.Register(func(_ context.Context, p *taskPayload) (string, error) { return "accepted " + p.SID, nil })
		require.NoError(t, err)
		declined := errors.New("agent declined")
		act.Before(func(_ context.Context, p *taskPayload) error {
			if !p.Confirmed {
				return Abort(declined)
			}
			return nil
		}, Named("confirm"))
		act.After(func(_ context.Context, p *taskPayload) error {
			rec.add("after:" + p.SID)
			return nil
		})
		_, err = act.Call(ctx, &taskPayload{SID: "WT1"})
		assert.ErrorIs(t, err, ErrAborted)
		assert.ErrorIs(t, err, declined)
		res, err := act.Call(ctx, &taskPayload{SID: "WT2", Confirmed: true})
		require.NoError(t, err)
		assert.Equal(t, "accepted WT2", res)
		assert.Equal(t, "after:WT2", rec.trace())
	})

	t.Run("Typed_typed_block", func(t *testing.T) {
		r := New()
		act := Typed[*taskPayload, string](r, "AcceptTask")
		_, err := act.Register(func(_ context.Context, p *taskPayload) (string, error) { return p.SID, nil })
		require.NoError(t, err)
		unblock := act.Block(func(p *taskPayload) bool { return p.SID == "WT1" })
		_, err = act.Call(ctx, &taskPayload{SID: "WT1"})
		assert.ErrorIs(t, err, ErrBlocked)
		_, err = act.Call(ctx, &taskPayload{SID: "WT2"})
		assert.NoError(t, err)
		assert.True(t, unblock())
		_, err = act.Call(ctx, &taskPayload{SID: "WT1"})
		assert.NoError(t, err)

		unblockAll := act.Block(nil)
		_, err = act.Call(ctx, &taskPayload{SID: "WT2"})
		assert.ErrorIs(t, err, ErrBlocked)
		assert.True(t, unblockAll())

		// On an untyped action a payload of another type does not match.
		mustRegister(t, r, "Loose", func(_ context.Context, p any) (any, error) { return p, nil })
		Typed[int, int](r, "Loose").Block(func(int) bool { return true })
		var res any
		require.NotPanics(t, func() { res, err = r.Call(ctx, "Loose", "text") })
		assert.NoError(t, err)
		assert.Equal(t, "text", res)
		_, err = r.Call(ctx, "Loose", 1)
		assert.ErrorIs(t, err, ErrBlocked)
	})

	t.Run("Typed_UpdatePayloadOf", func(t *testing.T) {
		r := New()
		var rec recorder
		act := Typed[*taskPayload, string](r, "AcceptTask")
		_, err := act.Register(func(_ context.Context, p *taskPayload) (string, error) {
			return p.SID, nil
		}, UpdatePayloadOf(func(_ context.Context, p *taskPayload) (*taskPayload, error) {
			return &taskPayload{SID: "updated-" + p.SID}, nil
		}))
		require.NoError(t, err)
		act.Before(func(_ context.Context, p *taskPayload) error {
			rec.add("before:" + p.SID)
			return nil
		})
		res, err := act.Call(ctx, &taskPayload{SID: "WT1"})
		require.NoError(t, err)
		assert.Equal(t, "updated-WT1", res)
		assert.Equal(t, "before:updated-WT1", rec.trace())

		// Value types, and an untyped action with a wrong payload.
		count := Typed[int, int](r, "Count")
		_, err = count.Register(func(_ context.Context, n int) (int, error) { return n, nil },
			UpdatePayloadOf(func(_ context.Context, n int) (int, error) { return n + 1, nil }))
		require.NoError(t, err)
		n, err := count.Call(ctx, 41)
		require.NoError(t, err)
		assert.Equal(t, 42, n)

		mustRegister(t, r, "Loose", func(_ context.Context, p any) (any, error) { return p, nil },
			UpdatePayloadOf(func(_ context.Context, n int) (int, error) { return n + 1, nil }))
		require.NotPanics(t, func() { _, err = r.Call(ctx, "Loose", "text") })
		assert.ErrorIs(t, err, ErrPayloadType)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, StageUpdate, e.Stage)
	})

	t.Run("Typed_DeduplicateBy", func(t *testing.T) {
		for _, mode := range []DedupMode{RejectPending, SharePending} {
			t.Run(fmt.Sprint("mode_", mode), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r := New()
					release := make(chan struct{})
					act := Typed[*taskPayload, string](r, "AcceptTask")
					_, err := act.Register(func(_ context.Context, p *taskPayload) (string, error) {
						<-release
						return "accepted " + p.SID, nil
					}, DeduplicateBy(func(p *taskPayload) string { return p.SID }, mode))
					require.NoError(t, err)
					first := act.Invoke(ctx, &taskPayload{SID: "WT1"})
					other := act.Invoke(ctx, &taskPayload{SID: "WT2"})
					synctest.Wait()
					assert.Equal(t, 2, act.InFlight())
					second := act.Invoke(ctx, &taskPayload{SID: "WT1"})
					synctest.Wait()
					close(release)
					res, err := first.Result()
					require.NoError(t, err)
					assert.Equal(t, "accepted WT1", res)
					res, err = other.Result()
					require.NoError(t, err)
					assert.Equal(t, "accepted WT2", res)
					res, err = second.Result()
					if mode == RejectPending {
						assert.ErrorIs(t, err, ErrPending)
					} else {
						require.NoError(t, err)
						assert.Equal(t, "accepted WT1", res)
					}
					assert.Zero(t, act.InFlight())
				})
			})
		}
	})
}

type tOrder struct{ ID string }
type tReceipt struct{ Total int }

func (o tOrder) String() string { return o.ID }

// TestTypedMismatch covers Typed: a handle whose types cannot fit the
// registered action's is a programmer error, reported where it is made,
// never after the body's side effects.
func TestTypedMismatch(t *testing.T) {
	register := func(t *testing.T, r *Registry, bodies *int) Action[*tOrder, tReceipt] {
		h := Typed[*tOrder, tReceipt](r, "CreateOrder")
		_, err := h.Register(func(_ context.Context, o *tOrder) (tReceipt, error) {
			*bodies++
			return tReceipt{Total: 42}, nil
		})
		require.NoError(t, err)
		return h
	}

	t.Run("Typed: a listener of another payload type panics when added, naming both types", func(t *testing.T) {
		r := New()
		var bodies int
		register(t, r, &bodies)
		msg := setupPanicMessage(t, "Before with a mismatched payload type", func() {
			Typed[tOrder, tReceipt](r, "CreateOrder").Before(func(context.Context, tOrder) error { return nil }, Named("wrong-type"))
		})
		assert.Contains(t, msg, "actions.tOrder")
		assert.Contains(t, msg, "*actions.tOrder")
		assert.Contains(t, msg, `"wrong-type"`)
		assert.Empty(t, r.Listeners("beforeCreateOrder"), "nothing was added")
		res, err := Typed[*tOrder, tReceipt](r, "CreateOrder").Call(context.Background(), &tOrder{ID: "o1"})
		require.NoError(t, err, "correct calls still work")
		assert.Equal(t, 42, res.Total)
	})

	t.Run("Typed: a typed action registered over a mismatched listener panics at Register", func(t *testing.T) {
		r := New()
		Typed[tOrder, tReceipt](r, "CreateOrder").After(func(context.Context, tOrder) error { return nil })
		var bodies int
		msg := setupPanicMessage(t, "Register over a mismatched listener", func() { register(t, r, &bodies) })
		assert.Contains(t, msg, "actions.tOrder")
		assert.Contains(t, msg, "*actions.tOrder")
		assert.False(t, r.Registered("CreateOrder"))
	})

	t.Run("Typed: a replacement of other types panics when pushed", func(t *testing.T) {
		r := New()
		var bodies int
		register(t, r, &bodies)
		msg := setupPanicMessage(t, "Replace with a mismatched result type", func() {
			Typed[*tOrder, *tReceipt](r, "CreateOrder").Replace(func(ctx context.Context, o *tOrder, original func(context.Context, *tOrder) (*tReceipt, error)) (*tReceipt, error) {
				return original(ctx, o)
			})
		})
		assert.Contains(t, msg, "*actions.tReceipt")
		assert.Contains(t, msg, "actions.tReceipt")
	})

	t.Run("Typed: a call whose result type cannot fit fails before any stage, saying result", func(t *testing.T) {
		r := New()
		var bodies int
		register(t, r, &bodies)
		before := 0
		r.AddListener("beforeCreateOrder", func(context.Context, any) error { before++; return nil })
		for _, way := range []string{"Call", "Invoke"} {
			h := Typed[*tOrder, *tReceipt](r, "CreateOrder")
			var err error
			if way == "Call" {
				_, err = h.Call(context.Background(), &tOrder{ID: "o1"})
			} else {
				_, err = h.Invoke(context.Background(), &tOrder{ID: "o1"}).Result()
			}
			require.ErrorIs(t, err, ErrPayloadType, way)
			assert.EqualError(t, err, "actions: CreateOrder: wrong result type: result is actions.tReceipt, want *actions.tReceipt", way)
			var pt *PayloadTypeError
			require.ErrorAs(t, err, &pt)
			assert.True(t, pt.Result)
		}
		assert.Zero(t, bodies, "the body never ran: no order was stored")
		assert.Zero(t, before, "no stage ran")
	})

	t.Run("Typed: handles of interface types fit the types that implement them", func(t *testing.T) {
		r := New()
		var bodies int
		register(t, r, &bodies)
		var seen []string
		Typed[fmt.Stringer, any](r, "CreateOrder").Before(func(_ context.Context, s fmt.Stringer) error {
			seen = append(seen, s.String())
			return nil
		})
		Typed[any, any](r, "CreateOrder").After(func(context.Context, any) error { return nil })
		res, err := Typed[*tOrder, any](r, "CreateOrder").Call(context.Background(), &tOrder{ID: "o2"})
		require.NoError(t, err)
		assert.Equal(t, tReceipt{Total: 42}, res)
		assert.Equal(t, []string{"o2"}, seen)
	})

	t.Run("Typed: an untyped registration is checked value by value, as before", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "CreateOrder", func(context.Context, any) (any, error) { return tReceipt{}, nil })
		Typed[tOrder, tReceipt](r, "CreateOrder").Before(func(context.Context, tOrder) error { return nil })
		_, err := r.Call(context.Background(), "CreateOrder", &tOrder{})
		assert.ErrorIs(t, err, ErrPayloadType)
	})
}

// TestTypedPhase covers the phases of a typed handle's invocation, which
// call typed listeners of the handle's payload type without their adapters
// (run): every outcome is the one the untyped API gives for the same
// registrations, step by step and error by error.
func TestTypedPhase(t *testing.T) {
	errNo := errors.New("no")
	var cancelled context.CancelCauseFunc // the cancelling scenario's
	type world struct {
		r              *Registry
		steps, handled *[]string
	}
	// setup registers CreateOrder with a typed body, and listeners of every
	// kind: typed for *tOrder (called directly), typed for an interface
	// (through its adapter) and untyped, before and after.
	setup := func(t *testing.T, extra func(w world, h Action[*tOrder, string])) world {
		var steps, handled []string
		r := New(WithErrorHandler(func(_ context.Context, err error) { handled = append(handled, "handled "+err.Error()) }))
		w := world{r: r, steps: &steps, handled: &handled}
		h := Typed[*tOrder, string](r, "CreateOrder")
		_, err := h.Register(func(_ context.Context, o *tOrder) (string, error) {
			steps = append(steps, "body "+o.ID)
			return "ok " + o.ID, nil
		})
		require.NoError(t, err)
		h.Before(func(_ context.Context, o *tOrder) error { steps = append(steps, "typed "+o.ID); return nil }, Named("typed"))
		Typed[fmt.Stringer, string](r, "CreateOrder").Before(func(_ context.Context, s fmt.Stringer) error {
			steps = append(steps, "stringer "+s.String())
			return nil
		})
		r.AddListener("beforeCreateOrder", func(_ context.Context, p any) error {
			steps = append(steps, "untyped "+p.(*tOrder).ID)
			return nil
		})
		h.Before(func(_ context.Context, o *tOrder) error { steps = append(steps, "once "+o.ID); return nil }, Once())
		h.After(func(_ context.Context, o *tOrder) error { steps = append(steps, "after "+o.ID); return nil })
		if extra != nil {
			extra(w, h)
		}
		return w
	}
	type call func(w world, ctx context.Context, o *tOrder) (any, error)
	viaHandle := func(w world, ctx context.Context, o *tOrder) (any, error) {
		return Typed[*tOrder, string](w.r, "CreateOrder").Call(ctx, o)
	}
	viaName := func(w world, ctx context.Context, o *tOrder) (any, error) {
		return w.r.Call(ctx, "CreateOrder", o)
	}
	// outcome runs the scenario and returns what it recorded, each call's
	// result and error, and the error handler's errors.
	outcome := func(t *testing.T, how call, extra func(w world, h Action[*tOrder, string]), ctxOf func() context.Context, payload func(id string) *tOrder) []string {
		w := setup(t, extra)
		for _, id := range []string{"o1", "o2"} {
			ctx := context.Background()
			if ctxOf != nil {
				ctx = ctxOf()
			}
			res, err := how(w, ctx, payload(id))
			if err == nil {
				*w.steps = append(*w.steps, fmt.Sprintf("result %v", res))
				continue
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			*w.steps = append(*w.steps, fmt.Sprintf("error %v; kind %v, stage %v, listener %q", err, e.Kind, e.Stage, e.Listener))
		}
		return append(*w.steps, *w.handled...)
	}
	for _, tc := range []struct {
		name  string
		extra func(w world, h Action[*tOrder, string])
		ctx   func() context.Context
		nilP  bool     // invoke with a nil *tOrder
		want  []string // the first steps, as a check that the scenario happened
	}{
		{name: "every kind of listener in order, a once-listener once", want: []string{"typed o1", "stringer o1", "untyped o1", "once o1", "body o1", "after o1"}},
		{name: "with a de-duplication rule: its frame is on the heap", extra: func(w world, h Action[*tOrder, string]) {
			h.Deduplicate(func(o *tOrder) string { return o.ID }, SharePending)
		}, want: []string{"typed o1", "stringer o1", "untyped o1", "once o1", "body o1", "after o1", "result ok o1"}},
		{name: "a typed listener's abort", extra: func(w world, h Action[*tOrder, string]) {
			h.Before(func(context.Context, *tOrder) error { return Abort(errNo) }, Named("veto"), Priority(1))
		}},
		{name: "a typed listener's failure", extra: func(w world, h Action[*tOrder, string]) {
			h.Before(func(context.Context, *tOrder) error { return errNo }, Named("broken"))
		}},
		{name: "a typed listener's panic", extra: func(w world, h Action[*tOrder, string]) {
			h.Before(func(context.Context, *tOrder) error { panic("boom") }, Named("panics"), Priority(-1))
		}},
		{name: "a typed after-listener's failure goes to the error handler", extra: func(w world, h Action[*tOrder, string]) {
			h.After(func(context.Context, *tOrder) error { return errNo }, Named("late"))
		}},
		{name: "a typed after-listener's panic, and the phase goes on", extra: func(w world, h Action[*tOrder, string]) {
			h.After(func(context.Context, *tOrder) error { panic("late boom") }, Named("late"), Priority(1))
		}},
		{name: "a typed listener cancels: the next one does not run", ctx: func() context.Context {
			ctx, cancel := context.WithCancelCause(context.Background())
			cancelled = cancel
			return ctx
		}, extra: func(w world, h Action[*tOrder, string]) {
			h.Before(func(context.Context, *tOrder) error { cancelled(errNo); return nil }, Named("canceller"), Priority(1))
		}},
		{name: "a nil payload reaches a typed listener as nil", nilP: true, extra: func(w world, h Action[*tOrder, string]) {
			h.Before(func(_ context.Context, o *tOrder) error {
				if o == nil {
					return Abort(errNo)
				}
				return nil
			}, Named("nil check"), Priority(2))
		}, want: []string{`error actions: CreateOrder: action aborted in before phase by listener "nil check": no; kind actions: action aborted, stage before phase, listener "nil check"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := func(id string) *tOrder { return &tOrder{ID: id} }
			if tc.nilP {
				payload = func(string) *tOrder { return nil }
			}
			byHandle := outcome(t, viaHandle, tc.extra, tc.ctx, payload)
			byName := outcome(t, viaName, tc.extra, tc.ctx, payload)
			require.NotEmpty(t, byHandle)
			assert.Equal(t, byName, byHandle)
			if tc.want != nil {
				assert.Equal(t, tc.want, byHandle[:len(tc.want)])
			}
		})
	}
}
