package actions

import (
	"context"
	"strings"
	"testing"

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
				setupPanicMessage(t, func() { tc.call(r) })
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
