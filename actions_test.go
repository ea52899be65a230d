package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegisterAction(t *testing.T) {
	ctx := context.Background()
	okBody := func(context.Context, any) (any, error) { return "ok", nil }

	t.Run("Registry_programmer_errors_panic_at_registration", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			call func(r *Registry)
		}{
			{"empty_name", func(r *Registry) { _, _ = r.RegisterAction("", okBody) }},
			{"nil_body", func(r *Registry) { _, _ = r.RegisterAction("X", nil) }},
			{"nil_payload_update", func(r *Registry) { _, _ = r.RegisterAction("X", okBody, UpdatePayload(nil)) }},
			{"nil_dedup_key", func(r *Registry) { _, _ = r.RegisterAction("X", okBody, Deduplicate(nil, RejectPending)) }},
			{"replace_empty_name", func(r *Registry) { r.ReplaceAction("", layer(&recorder{}, "r")) }},
			{"replace_nil", func(r *Registry) { r.ReplaceAction("X", nil) }},
			{"block_empty_name", func(r *Registry) { r.BlockAction("", nil) }},
			{"typed_empty_name", func(r *Registry) { Typed[int, int](r, "") }},
			{"typed_nil_body", func(r *Registry) { _, _ = Typed[int, int](r, "X").Register(nil) }},
			{"typed_nil_replacement", func(r *Registry) { Typed[int, int](r, "X").Replace(nil) }},
			{"typed_nil_payload_update", func(r *Registry) {
				_, _ = Typed[int, int](r, "X").Register(func(context.Context, int) (int, error) { return 0, nil }, UpdatePayloadOf[int](nil))
			}},
			{"typed_nil_dedup_key", func(r *Registry) {
				_, _ = Typed[int, int](r, "X").Register(func(context.Context, int) (int, error) { return 0, nil }, DeduplicateBy[int](nil, SharePending))
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := New()
				setupPanicMessage(t, tc.name, func() { tc.call(r) })
				// Nothing was half-registered: X is free and runs its own body.
				assert.False(t, r.Registered("X"))
				assert.False(t, r.Registered(""))
				mustRegister(t, r, "X", func(context.Context, any) (any, error) { return "x", nil })
				res, err := r.Call(ctx, "X", 1)
				require.NoError(t, err)
				assert.Equal(t, "x", res)
			})
		}
	})

	t.Run("Registry_duplicate_fails_and_overwrites_nothing", func(t *testing.T) {
		r := New()
		var rec recorder
		mustRegister(t, r, "Dup", rec.body("first", 1))
		unregister, err := r.RegisterAction("Dup", rec.body("second", 2),
			UpdatePayload(func(context.Context, any) (any, error) {
				rec.add("second-update")
				return nil, nil
			}))
		assert.Nil(t, unregister)
		require.ErrorIs(t, err, ErrAlreadyRegistered)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "Dup", e.Action)
		assert.True(t, strings.HasPrefix(err.Error(), "actions: Dup"), err.Error())
		for _, way := range invokeWays {
			res, err := way.run(ctx, r, "Dup", nil)
			require.NoError(t, err)
			assert.Equal(t, 1, res)
		}
		assert.Equal(t, "first first", rec.trace())
	})

	t.Run("Registry_unregister_then_not_found", func(t *testing.T) {
		r := New()
		var rec recorder
		unregister := mustRegister(t, r, "Act", rec.body("body", "res"))
		r.AddListener("beforeAct", rec.listen("before", nil))
		require.True(t, r.Registered("Act"))
		assert.True(t, unregister())
		assert.False(t, unregister(), "the handle removes only once")
		assert.False(t, r.Registered("Act"))
		for _, way := range invokeWays {
			_, err := way.run(ctx, r, "Act", nil)
			assert.ErrorIs(t, err, ErrActionNotFound)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "Act", e.Action)
		}
		assert.Empty(t, rec.trace(), "no listener runs for an unregistered action")
	})

	t.Run("Registry_listeners_replacements_blocks_survive_unregistration", func(t *testing.T) {
		r := New()
		var rec recorder
		r.AddListener("beforeAct", rec.listen("before", nil))
		r.AddListener("afterAct", rec.listen("after", nil))
		r.ReplaceAction("Act", layer(&rec, "replacement"))
		r.BlockAction("Act", func(p any) bool { return p == "blocked" })

		unregister := mustRegister(t, r, "Act", rec.body("body1", 1))
		res, err := r.Call(ctx, "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, 1, res)
		require.True(t, unregister())
		assert.Len(t, r.Listeners("beforeAct"), 1)
		assert.Len(t, r.Listeners("afterAct"), 1)

		mustRegister(t, r, "Act", rec.body("body2", 2))
		res, err = r.Call(ctx, "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, 2, res)
		_, err = r.Call(ctx, "Act", "blocked")
		assert.ErrorIs(t, err, ErrBlocked)
		assert.Equal(t, "before replacement body1 after before replacement body2 after", rec.trace())
	})

	t.Run("Registry_old_handle_does_not_remove_newer_registration", func(t *testing.T) {
		r := New()
		first := mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return "first", nil })
		require.True(t, first())
		second := mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return "second", nil })
		assert.False(t, first())
		assert.True(t, r.Registered("Act"))
		res, err := r.Call(ctx, "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, "second", res)
		assert.True(t, second())
		assert.False(t, r.Registered("Act"))
	})

	t.Run("Registry_invocation_keeps_the_body_it_found", func(t *testing.T) {
		r := New()
		var rec recorder
		unregister := mustRegister(t, r, "Act", rec.body("old-body", "old"))
		r.AddListener("beforeAct", func(context.Context, any) error {
			rec.add("before")
			assert.True(t, unregister())
			_, err := r.RegisterAction("Act", rec.body("new-body", "new"))
			assert.NoError(t, err)
			return nil
		}, Once())
		res, err := r.Call(ctx, "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, "old", res)
		res, err = r.Call(ctx, "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, "new", res)
		assert.Equal(t, "before old-body new-body", rec.trace())
	})

	t.Run("Registry_payload_update_option", func(t *testing.T) {
		r := New()
		var rec recorder
		mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) {
			rec.add("body:" + p.(string))
			return p, nil
		}, UpdatePayload(func(_ context.Context, p any) (any, error) {
			rec.add("update:" + p.(string))
			return p.(string) + "!", nil
		}))
		r.AddListener("beforeAct", func(_ context.Context, p any) error {
			rec.add("before:" + p.(string))
			return nil
		})
		res, err := r.Call(ctx, "Act", "hi")
		require.NoError(t, err)
		assert.Equal(t, "hi!", res)
		assert.Equal(t, "update:hi before:hi! body:hi!", rec.trace())
	})
}

func TestDefaultRegistry(t *testing.T) {
	ctx := context.Background()

	t.Run("Registry_package_functions_use_the_default_registry", func(t *testing.T) {
		require.NotNil(t, Default())
		require.Same(t, Default(), Default())
		// Names of their own, removed afterwards: the default registry is
		// shared by the whole test binary.
		const name = "RegistryDefaultProbe"
		var rec recorder
		unregister, err := RegisterAction(name, func(_ context.Context, p any) (any, error) {
			rec.add(fmt.Sprint("body:", p))
			return p, nil
		})
		require.NoError(t, err)
		t.Cleanup(func() { unregister() })
		assert.True(t, Default().Registered(name))

		removeBefore := AddListener("before"+name, rec.listen("before", nil))
		t.Cleanup(func() { removeBefore() })
		AddListener("after"+name, rec.listen("after", nil))
		t.Cleanup(func() { RemoveAllListeners("after" + name) })
		removeLayer := ReplaceAction(name, layer(&rec, "replacement"))
		t.Cleanup(func() { removeLayer() })
		unblock := BlockAction(name, func(p any) bool { return p == "blocked" })
		t.Cleanup(func() { unblock() })

		res, err := Call(ctx, name, 1)
		require.NoError(t, err)
		assert.Equal(t, 1, res)
		res, err = InvokeAction(ctx, name, 2).Result()
		require.NoError(t, err)
		assert.Equal(t, 2, res)
		res, err = Default().Call(ctx, name, 3)
		require.NoError(t, err)
		assert.Equal(t, 3, res)
		n, err := Typed[int, int](nil, name).Call(ctx, 4)
		require.NoError(t, err)
		assert.Equal(t, 4, n)
		assert.Same(t, Default(), Typed[int, int](nil, name).Registry())
		_, err = Call(ctx, name, "blocked")
		assert.ErrorIs(t, err, ErrBlocked)
		assert.Equal(t, "before replacement body:1 after before replacement body:2 after "+
			"before replacement body:3 after before replacement body:4 after", rec.trace())

		_, err = RegisterAction(name, func(context.Context, any) (any, error) { return nil, nil })
		assert.ErrorIs(t, err, ErrAlreadyRegistered)
		assert.Equal(t, 1, RemoveAllListeners("after"+name))
		assert.True(t, unblock())
		assert.True(t, removeLayer())
		assert.True(t, removeBefore())
		assert.True(t, unregister())
		_, err = Call(ctx, name, nil)
		assert.ErrorIs(t, err, ErrActionNotFound)

		// An instance does not see the default registry's actions.
		_, err = New().Call(ctx, name, nil)
		assert.ErrorIs(t, err, ErrActionNotFound)
	})

	t.Run("Registry_instances_are_independent", func(t *testing.T) {
		var zero Registry
		a, b := New(), &zero
		const name = "RegistryInstanceProbe"
		mustRegister(t, a, name, func(context.Context, any) (any, error) { return "a", nil })
		mustRegister(t, b, name, func(context.Context, any) (any, error) { return "b", nil })
		a.BlockAction(name, func(p any) bool { return p == "blocked" })
		b.ReplaceAction(name, func(ctx context.Context, p any, original Body) (any, error) {
			v, err := original(ctx, p)
			return fmt.Sprint("replaced ", v), err
		})
		require.NoError(t, a.Close(ctx))

		_, err := a.Call(ctx, name, nil)
		assert.ErrorIs(t, err, ErrClosed)
		res, err := b.Call(ctx, name, "blocked")
		require.NoError(t, err, "a block or Close on one registry does not touch another")
		assert.Equal(t, "replaced b", res)
		assert.False(t, Default().Registered(name))
		_, err = Call(ctx, name, nil)
		assert.ErrorIs(t, err, ErrActionNotFound)
	})

	t.Run("Registry_no_built_in_catalogue", func(t *testing.T) {
		for _, r := range []*Registry{New(), {}} {
			for _, name := range []string{"AcceptTask", "RejectTask", "CompleteTask", "WrapupTask", "SendMessage", "HangupCall", "SetActivity"} {
				assert.False(t, r.Registered(name), name)
				_, err := r.Call(ctx, name, nil)
				assert.ErrorIs(t, err, ErrActionNotFound, name)
			}
		}
	})

	// Every feature on a zero Registry and on one made by New: the default
	// registry is a convenience, never a requirement.
	for _, mk := range []struct {
		name string
		new  func() *Registry
	}{
		{"zero_value", func() *Registry { return &Registry{} }},
		{"New", func() *Registry { return New() }},
	} {
		t.Run("Registry_every_feature_works_on_an_instance/"+mk.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := mk.new()
				var rec recorder
				reason := errors.New("declined")
				release := make(chan struct{})

				accept := Typed[string, string](r, "AcceptTask")
				_, err := accept.Register(func(_ context.Context, p string) (string, error) {
					rec.add("body:" + p)
					if p == "slow" {
						<-release
					}
					return "accepted " + p, nil
				}, UpdatePayloadOf(func(_ context.Context, p string) (string, error) { return p, nil }),
					DeduplicateBy(func(p string) string { return p }, RejectPending))
				require.NoError(t, err)
				accept.Before(func(_ context.Context, p string) error {
					if p == "decline" {
						return Abort(reason)
					}
					return nil
				})
				r.AddListener("afterAcceptTask", rec.listen("after", nil), Once())
				r.ReplaceAction("AcceptTask", layer(&rec, "replacement"))
				unblock := accept.Block(func(p string) bool { return p == "blocked" })

				res, err := accept.Call(ctx, "WT1")
				require.NoError(t, err)
				assert.Equal(t, "accepted WT1", res)
				_, err = accept.Call(ctx, "decline")
				assert.ErrorIs(t, err, reason)
				_, err = accept.Call(ctx, "blocked")
				assert.ErrorIs(t, err, ErrBlocked)
				assert.True(t, unblock())

				slow := accept.Invoke(ctx, "slow")
				synctest.Wait()
				assert.Equal(t, 1, accept.InFlight())
				_, err = r.Call(ctx, "AcceptTask", "slow")
				assert.ErrorIs(t, err, ErrPending)
				closed := make(chan error, 1)
				go func() { closed <- r.Close(ctx) }()
				synctest.Wait()
				_, err = accept.Call(ctx, "WT2")
				assert.ErrorIs(t, err, ErrClosed)
				close(release)
				require.NoError(t, <-closed)
				res, err = slow.Result()
				require.NoError(t, err)
				assert.Equal(t, "accepted slow", res)
				assert.Equal(t, "replacement body:WT1 after replacement body:slow", rec.trace())
			})
		})
	}
}
