package actions

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
