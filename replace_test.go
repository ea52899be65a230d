package actions

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplaceAction(t *testing.T) {
	ctx := context.Background()

	for _, way := range invokeWays {
		t.Run("Replacing_newest_first_original_is_layer_below/"+way.name, func(t *testing.T) {
			r := New()
			var rec recorder
			mustRegister(t, r, "Act", rec.body("body", "res"))
			r.ReplaceAction("Act", layer(&rec, "r1"))
			r.ReplaceAction("Act", layer(&rec, "r2"))
			r.ReplaceAction("Act", layer(&rec, "r3"))
			res, err := way.run(ctx, r, "Act", nil)
			require.NoError(t, err)
			assert.Equal(t, "res", res)
			assert.Equal(t, "r3 r2 r1 body", rec.trace())
		})
	}

	t.Run("Replacing_original_is_not_the_base_body", func(t *testing.T) {
		// Flex passes the base body as original, so a plugin's replacement
		// silently skips the ones below it; here it must reach r1.
		r := New()
		var rec recorder
		mustRegister(t, r, "Act", rec.body("body", "base"))
		r.ReplaceAction("Act", func(context.Context, any, Body) (any, error) {
			rec.add("r1")
			return "from r1", nil
		})
		r.ReplaceAction("Act", layer(&rec, "r2"))
		res, err := r.Call(ctx, "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, "from r1", res)
		assert.Equal(t, "r2 r1", rec.trace())
	})

	t.Run("Replacing_original_called_any_number_of_times", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			payloads  []int // what the replacement calls original with
			wantRes   any
			wantTrace string
		}{
			{"zero", nil, 0, "replacement"},
			{"once_same_payload", []int{1}, 1, "replacement body:1"},
			{"several_other_payloads", []int{2, 3, 4}, 9, "replacement body:2 body:3 body:4"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := New()
				var rec recorder
				mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) {
					rec.add(fmt.Sprint("body:", p))
					return p, nil
				})
				r.ReplaceAction("Act", func(ctx context.Context, _ any, original Body) (any, error) {
					rec.add("replacement")
					sum := 0
					for _, p := range tc.payloads {
						v, err := original(ctx, p)
						if err != nil {
							return nil, err
						}
						sum += v.(int)
					}
					return sum, nil
				})
				res, err := r.Call(ctx, "Act", 1)
				require.NoError(t, err)
				assert.Equal(t, tc.wantRes, res)
				assert.Equal(t, tc.wantTrace, rec.trace())
			})
		}
	})

	t.Run("Replacing_original_passes_its_ctx", func(t *testing.T) {
		type key struct{}
		r := New()
		mustRegister(t, r, "Act", func(ctx context.Context, _ any) (any, error) { return ctx.Value(key{}), nil })
		r.ReplaceAction("Act", func(ctx context.Context, p any, original Body) (any, error) {
			return original(context.WithValue(ctx, key{}, "from replacement"), p)
		})
		res, err := r.Call(ctx, "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, "from replacement", res)
	})

	for _, way := range invokeWays {
		t.Run("Replacing_original_runs_no_listeners_no_dedup/"+way.name, func(t *testing.T) {
			r := New()
			var rec recorder
			mustRegister(t, r, "Act", rec.body("body", "res"),
				Deduplicate(func(any) string { return "always the same key" }, RejectPending),
				UpdatePayload(func(_ context.Context, p any) (any, error) {
					rec.add("update")
					return p, nil
				}))
			r.AddListener("beforeAct", rec.listen("before", nil))
			r.AddListener("afterAct", rec.listen("after", nil))
			r.BlockAction("Act", func(p any) bool { return p == "blocked" })
			r.ReplaceAction("Act", func(ctx context.Context, p any, original Body) (any, error) {
				rec.add("replacement")
				for _, q := range []any{p, p, "blocked"} {
					if _, err := original(ctx, q); err != nil {
						return nil, err
					}
				}
				return "replaced", nil
			})
			res, err := way.run(ctx, r, "Act", "p")
			require.NoError(t, err)
			assert.Equal(t, "replaced", res)
			assert.Equal(t, "update before replacement body body body after", rec.trace())
		})
	}

	t.Run("Replacing_replace_before_register", func(t *testing.T) {
		r := New()
		var rec recorder
		r.ReplaceAction("Late", layer(&rec, "replacement"))
		_, err := r.Call(ctx, "Late", nil)
		require.ErrorIs(t, err, ErrActionNotFound, "a replacement does not register the action")
		assert.False(t, r.Registered("Late"))
		assert.Empty(t, rec.trace())

		mustRegister(t, r, "Late", rec.body("body", "res"))
		res, err := r.Call(ctx, "Late", nil)
		require.NoError(t, err)
		assert.Equal(t, "res", res)
		assert.Equal(t, "replacement body", rec.trace())
	})

	t.Run("Replacing_remove_exactly_one_layer", func(t *testing.T) {
		for _, tc := range []struct {
			remove    []int // indexes of the layers to remove, r1 = 0
			wantTrace string
		}{
			{[]int{0}, "r3 r2 body"},
			{[]int{1}, "r3 r1 body"},
			{[]int{2}, "r2 r1 body"},
			{[]int{1, 0}, "r3 body"},
			{[]int{0, 1, 2}, "body"},
		} {
			t.Run(fmt.Sprint(tc.remove), func(t *testing.T) {
				r := New()
				var rec recorder
				mustRegister(t, r, "Act", rec.body("body", "res"))
				var removers []func() bool
				for _, tag := range []string{"r1", "r2", "r3"} {
					removers = append(removers, r.ReplaceAction("Act", layer(&rec, tag)))
				}
				for _, i := range tc.remove {
					assert.True(t, removers[i](), "first removal of r%d", i+1)
					assert.False(t, removers[i](), "second removal of r%d", i+1)
				}
				res, err := r.Call(ctx, "Act", nil)
				require.NoError(t, err)
				assert.Equal(t, "res", res)
				assert.Equal(t, tc.wantTrace, rec.trace())
			})
		}
	})

	t.Run("Replacing_same_function_twice_is_two_layers", func(t *testing.T) {
		r := New()
		var rec recorder
		mustRegister(t, r, "Act", rec.body("body", "res"))
		fn := layer(&rec, "r")
		removeFirst := r.ReplaceAction("Act", fn)
		r.ReplaceAction("Act", fn)
		assert.True(t, removeFirst())
		_, err := r.Call(ctx, "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, "r body", rec.trace())
	})

	for _, way := range invokeWays {
		t.Run("Replacing_result_is_outermost/"+way.name, func(t *testing.T) {
			r := New()
			mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return "body", nil })
			for _, tag := range []string{"r1", "r2", "r3"} {
				r.ReplaceAction("Act", func(ctx context.Context, p any, original Body) (any, error) {
					v, err := original(ctx, p)
					return fmt.Sprintf("%s(%v)", tag, v), err
				})
			}
			res, err := way.run(ctx, r, "Act", nil)
			require.NoError(t, err)
			assert.Equal(t, "r3(r2(r1(body)))", res)
		})
	}

	t.Run("Replacing_stack_read_when_body_starts", func(t *testing.T) {
		r := New()
		var rec recorder
		mustRegister(t, r, "Act", rec.body("body", "res"))
		removeOld := r.ReplaceAction("Act", layer(&rec, "old"))
		r.AddListener("beforeAct", func(context.Context, any) error {
			removeOld()
			r.ReplaceAction("Act", layer(&rec, "new"))
			return nil
		}, Once())
		_, err := r.Call(ctx, "Act", nil)
		require.NoError(t, err)
		assert.Equal(t, "new body", rec.trace())
	})
}
