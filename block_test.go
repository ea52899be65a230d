package actions

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBlockAction(t *testing.T) {
	for _, way := range invokeWays {
		t.Run("Blocking_nil_match_blocks_every_invocation/"+way.name, func(t *testing.T) {
			r := New()
			var rec recorder
			registerTraced(t, r, &rec, "Act")
			unblock := r.BlockAction("Act", nil)
			for _, p := range []any{nil, "a", 42} {
				res, err := way.run(context.Background(), r, "Act", p)
				assert.Nil(t, res)
				assert.ErrorIs(t, err, ErrBlocked)
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, "Act", e.Action)
			}
			assert.Empty(t, rec.trace(), "a blocked invocation runs nothing")
			assert.True(t, unblock())
			assert.False(t, unblock())
			res, err := way.run(context.Background(), r, "Act", "a")
			require.NoError(t, err)
			assert.Equal(t, "a+updated", res)
			assert.Equal(t, tracedFull, rec.trace())
		})

		t.Run("Blocking_match_blocks_only_matching/"+way.name, func(t *testing.T) {
			r := New()
			var rec recorder
			registerTraced(t, r, &rec, "Act")
			r.BlockAction("Act", func(p any) bool { return p == "a" })
			_, err := way.run(context.Background(), r, "Act", "a")
			assert.ErrorIs(t, err, ErrBlocked)
			assert.Empty(t, rec.trace())
			_, err = way.run(context.Background(), r, "Act", "b")
			require.NoError(t, err)
			assert.Equal(t, tracedFull, rec.trace())
		})
	}

	t.Run("Blocking_unblock_removes_exactly_that_block", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) { return p, nil })
		unblockA := r.BlockAction("Act", func(p any) bool { return p == "a" })
		unblockB := r.BlockAction("Act", func(p any) bool { return p == "b" })
		unblockA2 := r.BlockAction("Act", func(p any) bool { return p == "a" })
		for _, step := range []struct {
			unblock     func() bool
			wantRemoved bool
			wantBlocked map[string]bool
		}{
			{nil, false, map[string]bool{"a": true, "b": true, "c": false}},
			{unblockA, true, map[string]bool{"a": true, "b": true, "c": false}}, // unblockA2 still blocks "a"
			{unblockA, false, map[string]bool{"a": true, "b": true, "c": false}},
			{unblockA2, true, map[string]bool{"a": false, "b": true, "c": false}},
			{unblockB, true, map[string]bool{"a": false, "b": false, "c": false}},
		} {
			if step.unblock != nil {
				assert.Equal(t, step.wantRemoved, step.unblock())
			}
			for p, blocked := range step.wantBlocked {
				_, err := r.Call(context.Background(), "Act", p)
				if blocked {
					assert.ErrorIs(t, err, ErrBlocked, p)
				} else {
					assert.NoError(t, err, p)
				}
			}
		}
	})

	t.Run("Blocking_match_sees_callers_payload", func(t *testing.T) {
		r := New()
		var rec recorder
		registerTraced(t, r, &rec, "Act")
		var seen recorder
		r.BlockAction("Act", func(p any) bool {
			seen.add(fmt.Sprint(p))
			return p == "raw"
		})
		r.BlockAction("Act", func(p any) bool { return p == "other+updated" })
		_, err := r.Call(context.Background(), "Act", "raw")
		assert.ErrorIs(t, err, ErrBlocked)
		_, err = r.Call(context.Background(), "Act", "other")
		assert.NoError(t, err, "a block must not see the updated payload")
		assert.Equal(t, "raw other", seen.trace())
	})

	t.Run("Blocking_block_before_register", func(t *testing.T) {
		r := New()
		r.BlockAction("Late", nil)
		mustRegister(t, r, "Late", func(context.Context, any) (any, error) { return "ran", nil })
		_, err := r.Call(context.Background(), "Late", nil)
		assert.ErrorIs(t, err, ErrBlocked)
	})
}
