package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The deadlock matrix runs one operation from inside one stage of an
// invocation of "A" with payload "k" (the outer invocation), in a registry
// with sequential or concurrent phases. A de-duplicates by the part of its
// payload before "/", sharing the in-flight outcome (SharePending), which is
// the mode where waiting on oneself is possible: "k/nested" has the outer
// invocation's key, "other" has a key of its own.
//
// Every cell runs in a synctest bubble, where the fake clock moves only when
// every goroutine of the bubble is durably blocked. The stage runs the
// operation in a goroutine of its own and gives up on it after an hour of
// that clock: an hour that passes only if nothing can move any more, which is
// a deadlock. Giving up lets the stage return, so the cell ends and fails
// with a message rather than taking the test binary down. (A goroutine stuck
// on a sync.Mutex is not durably blocked for synctest; the test's -timeout
// is the backstop for that.)

// Stages of the deadlock matrix.
const (
	dsUpdate        = "update"
	dsBefore        = "before"
	dsBody          = "body"
	dsReplacement   = "replacement"
	dsAfter         = "after"
	dsObserverBegin = "observer_begin"
	dsObserverEnd   = "observer_end"
	dsErrorHandler  = "error_handler"
)

// dlNestedStages are the stages whose ctx makes an invocation nested in the
// outer one while its de-duplication key is held. The error handler has no
// ctx.
var dlNestedStages = map[string]bool{dsUpdate: true, dsBefore: true, dsBody: true, dsReplacement: true, dsAfter: true}

// dlDepthStages are the stages whose ctx counts for the depth limit: the
// nested ones, and the observer's, whose ctx is the invocation's too (see
// Observer), before the key is claimed and after it is freed.
var dlDepthStages = map[string]bool{dsUpdate: true, dsBefore: true, dsBody: true, dsReplacement: true, dsAfter: true, dsObserverBegin: true, dsObserverEnd: true}

type dlRig struct {
	stage, op string
	reg       *Registry
	typed     Action[string, string]

	// Handles of what the rig registered, for the operations to use.
	unregisterA, removeB2, removeA2, removeLayer, unblockX func() bool

	once       sync.Once
	opDone     sync.WaitGroup // the operation's goroutine
	mu         sync.Mutex
	opRuns     int
	deadlocked bool          // the stage gave up waiting for the operation
	cleanup    []func() bool // handles made by the operation: each must still remove something
}

// dlDeadlock is how long, on the bubble's fake clock, a stage waits for its
// operation. The clock reaches it only if the bubble is deadlocked.
const dlDeadlock = time.Hour

// site runs the operation once, from the outer invocation's chosen stage,
// with the ctx the stage received (context.TODO() where it receives none).
func (g *dlRig) site(t *testing.T, ctx context.Context, stage string, payload any) {
	if stage != g.stage || payload != "k" {
		return
	}
	g.once.Do(func() {
		g.mu.Lock()
		g.opRuns++
		g.mu.Unlock()
		done := make(chan struct{})
		g.opDone.Go(func() {
			defer close(done)
			dlOps[g.op](t, g, ctx)
		})
		select {
		case <-done:
		case <-time.After(dlDeadlock):
			g.mu.Lock()
			g.deadlocked = true
			g.mu.Unlock()
		}
	})
}

func (g *dlRig) keep(remove func() bool) {
	g.mu.Lock()
	g.cleanup = append(g.cleanup, remove)
	g.mu.Unlock()
}

type dlObserver struct {
	t *testing.T
	g *dlRig
}

func (o dlObserver) InvocationBegin(ctx context.Context, inv Invocation) context.Context {
	if inv.Action == "A" {
		o.g.site(o.t, ctx, dsObserverBegin, inv.Payload)
	}
	return ctx
}

func (o dlObserver) InvocationEnd(ctx context.Context, inv Invocation, _ Outcome) {
	if inv.Action == "A" {
		o.g.site(o.t, ctx, dsObserverEnd, inv.Payload)
	}
}

var errDLA1 = errors.New("a1 fails to reach the error handler")

func newDLRig(t *testing.T, stage, op string, concurrent bool) *dlRig {
	g := &dlRig{stage: stage, op: op}
	opts := []Option{
		WithObserver(dlObserver{t, g}),
		WithErrorHandler(func(_ context.Context, err error) {
			if errors.Is(err, errDLA1) {
				g.site(t, context.TODO(), dsErrorHandler, "k")
			} else {
				assert.NoError(t, err, "error handler")
			}
		}),
	}
	if concurrent {
		opts = append(opts, WithConcurrentPhases())
	}
	if op == "call_same_over_limit" {
		opts = append(opts, WithMaxDepth(1))
	}
	g.reg = New(opts...)
	g.unregisterA = mustRegister(t, g.reg, "A",
		func(ctx context.Context, p any) (any, error) {
			g.site(t, ctx, dsBody, p)
			return "r:" + p.(string), nil
		},
		UpdatePayload(func(ctx context.Context, p any) (any, error) {
			g.site(t, ctx, dsUpdate, p)
			return p, nil
		}),
		Deduplicate(func(p any) string {
			k, _, _ := strings.Cut(p.(string), "/")
			return k
		}, SharePending),
	)
	g.reg.AddListener("beforeA", func(ctx context.Context, p any) error {
		g.site(t, ctx, dsBefore, p)
		return nil
	})
	g.removeB2 = g.reg.AddListener("beforeA", func(context.Context, any) error { return nil })
	g.removeLayer = g.reg.ReplaceAction("A", func(ctx context.Context, p any, original Body) (any, error) {
		g.site(t, ctx, dsReplacement, p)
		return original(ctx, p)
	})
	g.reg.AddListener("afterA", func(ctx context.Context, p any) error {
		g.site(t, ctx, dsAfter, p)
		if stage == dsErrorHandler && p == "k" {
			return errDLA1
		}
		return nil
	})
	g.removeA2 = g.reg.AddListener("afterA", func(context.Context, any) error { return nil })
	g.unblockX = g.reg.BlockAction("A", func(p any) bool { return p == "blocked" })

	mustRegister(t, g.reg, "O", func(_ context.Context, p any) (any, error) { return "o:" + p.(string), nil })
	g.typed = Typed[string, string](g.reg, "T")
	_, err := g.typed.Register(func(_ context.Context, p string) (string, error) { return "t:" + p, nil })
	require.NoError(t, err)
	return g
}

// dlNestedWant is the documented outcome of invoking A with the outer
// invocation's key from stage. Deduplicate rejects a nested invocation whose
// key is an ancestor's with ErrPending, even when sharing. Where the stage's
// ctx does not nest, the invocation is top-level: at the observer's begin
// the outer one holds no key yet, at its end no longer; the error handler
// runs while the outer one still holds its key, so sharing it would wait on
// an invocation that waits on the handler (the package docs' Concurrency:
// never a deadlock); the key must be free by then, and the invocation leads
// a flight of its own.
func dlNestedWant(stage string) error {
	if dlNestedStages[stage] {
		return ErrPending
	}
	return nil
}

// dlOps are the operations of the matrix, each with its own checks.
var dlOps = map[string]func(t *testing.T, g *dlRig, ctx context.Context){
	"register": func(t *testing.T, g *dlRig, ctx context.Context) {
		unregister, err := g.reg.RegisterAction("N", func(context.Context, any) (any, error) { return "n", nil })
		if assert.NoError(t, err) {
			res, err := g.reg.Call(ctx, "N", nil)
			assert.NoError(t, err)
			assert.Equal(t, "n", res)
			assert.True(t, unregister())
		}
	},
	"unregister": func(t *testing.T, g *dlRig, _ context.Context) {
		assert.True(t, g.unregisterA())
	},
	"add_listener": func(t *testing.T, g *dlRig, _ context.Context) {
		g.keep(g.reg.AddListener("beforeA", func(context.Context, any) error { return nil }))
		g.keep(g.reg.AddListener("afterA", func(context.Context, any) error { return nil }, Once()))
	},
	"remove_listener": func(t *testing.T, g *dlRig, _ context.Context) {
		assert.True(t, g.removeB2())
		assert.True(t, g.removeA2())
	},
	"remove_all_listeners": func(t *testing.T, g *dlRig, _ context.Context) {
		assert.Equal(t, 2, g.reg.RemoveAllListeners("beforeA"))
		assert.Equal(t, 2, g.reg.RemoveAllListeners("afterA"))
	},
	"replace": func(t *testing.T, g *dlRig, _ context.Context) {
		g.keep(g.reg.ReplaceAction("A", func(ctx context.Context, p any, original Body) (any, error) {
			return original(ctx, p)
		}))
	},
	"remove_layer": func(t *testing.T, g *dlRig, _ context.Context) {
		assert.True(t, g.removeLayer())
	},
	"block": func(t *testing.T, g *dlRig, _ context.Context) {
		g.keep(g.reg.BlockAction("A", nil))
	},
	"unblock": func(t *testing.T, g *dlRig, _ context.Context) {
		assert.True(t, g.unblockX())
	},
	"close": func(t *testing.T, g *dlRig, _ context.Context) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := g.reg.Close(ctx)
		// The outer invocation is accepted (from the observer's begin on,
		// since InvokeAction admitted it): Close gives up waiting at once.
		assert.ErrorIs(t, err, context.Canceled)
	},
	"call_same": func(t *testing.T, g *dlRig, ctx context.Context) {
		res, err := g.reg.Call(ctx, "A", "other")
		assert.NoError(t, err)
		assert.Equal(t, "r:other", res)
	},
	"call_same_over_limit": func(t *testing.T, g *dlRig, ctx context.Context) {
		// The rig's limit is 1 for this operation: an invocation nested in
		// the outer one is one too many (WithMaxDepth), one made without its
		// ctx is not nested at all.
		res, err := g.reg.Call(ctx, "A", "other")
		if dlDepthStages[g.stage] {
			assert.ErrorIs(t, err, ErrDepthExceeded)
			return
		}
		assert.NoError(t, err)
		assert.Equal(t, "r:other", res)
	},
	"call_same_key": func(t *testing.T, g *dlRig, ctx context.Context) {
		res, err := g.reg.Call(ctx, "A", "k/nested")
		dlAssertSameKey(t, g, res, err)
	},
	"invoke_same_wait": func(t *testing.T, g *dlRig, ctx context.Context) {
		res, err := g.reg.InvokeAction(ctx, "A", "other").Wait(context.Background())
		assert.NoError(t, err)
		assert.Equal(t, "r:other", res)
	},
	"invoke_same_key_wait": func(t *testing.T, g *dlRig, ctx context.Context) {
		res, err := g.reg.InvokeAction(ctx, "A", "k/nested").Wait(context.Background())
		dlAssertSameKey(t, g, res, err)
	},
	"call_other": func(t *testing.T, g *dlRig, ctx context.Context) {
		res, err := g.reg.Call(ctx, "O", "x")
		assert.NoError(t, err)
		assert.Equal(t, "o:x", res)
	},
	"invoke_other_wait": func(t *testing.T, g *dlRig, ctx context.Context) {
		res, err := g.reg.InvokeAction(ctx, "O", "x").Wait(context.Background())
		assert.NoError(t, err)
		assert.Equal(t, "o:x", res)
	},
	"call_typed": func(t *testing.T, g *dlRig, ctx context.Context) {
		res, err := g.typed.Call(ctx, "x")
		assert.NoError(t, err)
		assert.Equal(t, "t:x", res)
	},
	"invoke_typed_wait": func(t *testing.T, g *dlRig, ctx context.Context) {
		res, err := g.typed.Invoke(ctx, "x").Wait(context.Background())
		assert.NoError(t, err)
		assert.Equal(t, "t:x", res)
	},
}

func dlAssertSameKey(t *testing.T, g *dlRig, res any, err error) {
	if want := dlNestedWant(g.stage); want != nil {
		assert.ErrorIs(t, err, want)
		assert.Nil(t, res)
		return
	}
	assert.NoError(t, err)
	assert.Equal(t, "r:k/nested", res)
}

// TestDeadlock is the deadlock matrix of the package docs' Concurrency
// ("registering, removing, replacing and invoking from inside any stage never
// deadlocks") and Lifecycle (invoking another action from any stage works):
// every operation from every stage, with sequential and concurrent phases,
// completes, does what it says, and leaves the outer invocation with its
// documented outcome.
func TestDeadlock(t *testing.T) {
	stages := []string{dsUpdate, dsBefore, dsBody, dsReplacement, dsAfter, dsObserverBegin, dsObserverEnd, dsErrorHandler}
	ops := []string{
		"register", "unregister", "add_listener", "remove_listener", "remove_all_listeners",
		"replace", "remove_layer", "block", "unblock", "close",
		"call_same", "call_same_over_limit", "call_same_key", "invoke_same_wait", "invoke_same_key_wait",
		"call_other", "invoke_other_wait", "call_typed", "invoke_typed_wait",
	}
	require.Len(t, dlOps, len(ops))
	for _, phases := range []string{"sequential", "concurrent"} {
		for _, stage := range stages {
			for _, op := range ops {
				t.Run(fmt.Sprintf("phases=%s/stage=%s/op=%s", phases, stage, op), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						runDLCell(t, stage, op, phases == "concurrent")
					})
				})
			}
		}
	}
}

func runDLCell(t *testing.T, stage, op string, concurrent bool) {
	g := newDLRig(t, stage, op, concurrent)
	res, err := g.reg.InvokeAction(context.Background(), "A", "k").Wait(context.Background())
	g.opDone.Wait()
	g.mu.Lock()
	require.False(t, g.deadlocked, "deadlock: %s from the %s stage waited on the outer invocation, which waited on it", op, stage)
	g.mu.Unlock()

	// The outer invocation's outcome: the operation changes it only where it
	// runs before the step it affects, which is the observer's begin.
	var wantKind error
	if stage == dsObserverBegin {
		// Close is not among them: InvokeAction admitted the outer
		// invocation when it was called, so it runs (see Close).
		wantKind = map[string]error{"unregister": ErrActionNotFound, "block": ErrBlocked}[op]
	}
	if wantKind == nil {
		require.NoError(t, err)
		assert.Equal(t, "r:k", res)
	} else {
		assert.ErrorIs(t, err, wantKind)
	}

	g.mu.Lock()
	assert.Equal(t, 1, g.opRuns, "the operation ran once")
	cleanup := g.cleanup
	g.mu.Unlock()
	for i, remove := range cleanup {
		if op == "add_listener" && i == 1 {
			// The Once after-listener: added before the outer invocation's
			// after phase started, it ran there and removed itself; added
			// later, nothing claimed it (Listeners: snapshot per phase, Once).
			ranInAfterPhase := stage == dsObserverBegin || stage == dsUpdate || stage == dsBefore || stage == dsBody || stage == dsReplacement
			assert.Equal(t, !ranInAfterPhase, remove(), "Once after-listener's handle")
			continue
		}
		assert.True(t, remove(), "handle %d", i)
	}
	assert.Zero(t, g.reg.InFlight("A"))

	// The registry still works afterwards, unless the operation closed it.
	_, err = g.reg.Call(context.Background(), "O", "y")
	if op == "close" {
		assert.ErrorIs(t, err, ErrClosed)
	} else {
		assert.NoError(t, err)
	}
}

// TestDeadlockCloseIdle: Close with a done ctx on a registry with nothing
// to wait for has nothing to give up on, so it reports success, every time
// (Close returns the ctx's cause only when it stops waiting for
// in-flight invocations). Repeated because the outcome must not depend on
// which ready case select picks.
func TestDeadlockCloseIdle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 64 {
		var r Registry
		require.NoError(t, r.Close(ctx), "attempt %d", i)
	}
}
