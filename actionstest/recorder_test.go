package actionstest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionstest"
)

// Every status, nesting by depth and parent, and an invocation that has
// not ended yet.
func TestRecorder_Invocations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		block := actionstest.Blocking()
		register(t, reg, "ChargeCard", actionstest.Returns("charged").Body)
		register(t, reg, "NotifyAgent", actionstest.Fails(errCRM).Body)
		register(t, reg, "CreateOrder", func(ctx context.Context, p any) (any, error) {
			if _, err := reg.Call(ctx, "ChargeCard", p); err != nil {
				return nil, err
			}
			_, err := reg.Call(ctx, "NotifyAgent", p)
			return "created", err
		})
		register(t, reg, "Wait", block.Body)
		reg.AddListener("beforeChargeCard", actionstest.Aborts(nil).Listener, actions.Once())
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		_, err := reg.Call(t.Context(), "CreateOrder", 1) // ChargeCard aborted
		require.ErrorIs(t, err, actions.ErrAborted)
		_, err = reg.Call(t.Context(), "CreateOrder", 2) // NotifyAgent failed
		require.ErrorIs(t, err, errCRM)
		_, err = reg.Call(t.Context(), "Unknown", 3)
		require.ErrorIs(t, err, actions.ErrActionNotFound)
		_, err = reg.Call(ctx, "ChargeCard", 4)
		require.ErrorIs(t, err, context.Canceled)
		fut := reg.InvokeAction(t.Context(), "Wait", 5)
		<-block.Entered()

		invs := rec.Invocations()
		rec.AssertInvocations(t,
			"CreateOrder failed",
			"  ChargeCard aborted",
			"CreateOrder failed",
			"  ChargeCard ok",
			"  NotifyAgent failed",
			"Unknown rejected",
			"ChargeCard cancelled",
			"Wait running",
		)
		require.Len(t, invs, 8)
		outer, inner := invs[2], invs[3]
		assert.Equal(t, 2, outer.Payload)
		assert.Zero(t, outer.ParentID)
		assert.Equal(t, outer.ID, inner.ParentID)
		assert.Equal(t, 2, inner.Depth)
		assert.True(t, inner.Ended)
		assert.Equal(t, "charged", inner.Outcome.Result)
		assert.ErrorIs(t, invs[4].Outcome.Err, errCRM)
		assert.False(t, invs[7].Ended)
		assert.Equal(t, actions.Outcome{}, invs[7].Outcome, "zero until it ends")

		block.Release()
		_, err = fut.Wait(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "Wait ok", rec.Invocations()[7].String())
	})
}

func TestInvocation_String(t *testing.T) {
	inv := func(depth int, err error, ended bool) actionstest.Invocation {
		return actionstest.Invocation{
			Invocation: actions.Invocation{Action: "A", Depth: depth},
			Outcome:    actions.Outcome{Err: err},
			Ended:      ended,
		}
	}
	cases := []struct {
		inv  actionstest.Invocation
		want string
	}{
		{inv(1, nil, true), "A ok"},
		{inv(1, nil, false), "A running"},
		{inv(3, errors.New("x"), true), "    A failed"},
		{inv(0, nil, true), "A ok"}, // a zero Invocation: no negative indent
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.inv.String())
	}
}

func TestRecorder_AssertInvocations(t *testing.T) {
	ok := true
	ft := runTest(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		register(t, reg, "ChargeCard", actionstest.Returns(nil).Body)
		register(t, reg, "CreateOrder", func(ctx context.Context, p any) (any, error) { return reg.Call(ctx, "ChargeCard", p) })
		reg.AddListener("beforeChargeCard", actionstest.Aborts(nil).Listener)
		_, _ = reg.Call(t.Context(), "CreateOrder", nil)
		ok = rec.AssertInvocations(t, "CreateOrder failed", "  ChargeCard aborted") &&
			!rec.AssertInvocations(t, "CreateOrder ok", "ChargeCard ok") &&
			!rec.AssertInvocations(t)
	})
	assert.True(t, ok, "AssertInvocations reports whether they matched")
	assert.Equal(t, []string{
		"actionstest: invocations differ\nwant:\n\tCreateOrder ok\n\tChargeCard ok\ngot:\n\tCreateOrder failed\n\t  ChargeCard aborted",
		"actionstest: invocations differ\nwant: (none)\ngot:\n\tCreateOrder failed\n\t  ChargeCard aborted",
	}, ft.Errors())
}

func TestRecorder_steps(t *testing.T) {
	errVeto := errors.New("veto")
	var got []string
	ok := true
	ft := runTest(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		register(t, reg, "A", rec.Body("body", actionstest.Returns("result").Body))
		reg.AddListener("beforeA", rec.Listener("before:validate", nil))
		reg.AddListener("afterA", rec.Listener("after:audit", nil))
		reg.ReplaceAction("A", func(ctx context.Context, p any, original actions.Body) (any, error) {
			rec.Step("replacement")
			return original(ctx, p)
		})
		res, err := reg.Call(t.Context(), "A", nil)
		assert.NoError(t, err)
		assert.Equal(t, "result", res, "Body returns what the wrapped body returns")
		reg.AddListener("beforeA", rec.Listener("before:veto", actionstest.Fails(errVeto).Listener))
		_, err = reg.Call(t.Context(), "A", nil)
		assert.ErrorIs(t, err, errVeto, "Listener returns what the wrapped listener returns")

		got = rec.Steps()
		ok = rec.AssertSteps(t, "before:validate", "replacement", "body", "after:audit", "before:validate", "before:veto") &&
			!rec.AssertSteps(t, "before:validate", "body", "after:audit") &&
			!rec.AssertSteps(t)
	})
	assert.Equal(t, []string{"before:validate", "replacement", "body", "after:audit", "before:validate", "before:veto"}, got)
	assert.True(t, ok, "AssertSteps reports whether they matched")
	assert.Equal(t, []string{
		"actionstest: steps: want before:validate, body, after:audit; got before:validate, replacement, body, after:audit, before:validate, before:veto",
		"actionstest: steps: want (none); got before:validate, replacement, body, after:audit, before:validate, before:veto",
	}, ft.Errors())
}

// Listener and Body record the step before they run what they wrap: a
// step that blocks is already in the order.
func TestRecorder_recordsTheStepBeforeRunning(t *testing.T) {
	reg := actionstest.New(t)
	rec := actionstest.Record(reg)
	var seen [][]string
	register(t, reg, "A", rec.Body("body", func(context.Context, any) (any, error) {
		seen = append(seen, rec.Steps())
		return nil, nil
	}))
	reg.AddListener("beforeA", rec.Listener("before", func(context.Context, any) error {
		seen = append(seen, rec.Steps())
		return nil
	}))
	_, err := reg.Call(t.Context(), "A", nil)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"before"}, {"before", "body"}}, seen)
}

func TestRecorder_AssertSteps_noneRecorded(t *testing.T) {
	ft := runTest(func(t testing.TB) {
		actionstest.Record(actionstest.New(t)).AssertSteps(t, "body")
	})
	assert.Equal(t, []string{"actionstest: steps: want body; got (none)"}, ft.Errors())
}

// Reading returns copies: what the test holds does not change under it.
func TestRecorder_readsAreCopies(t *testing.T) {
	reg := actionstest.New(t)
	rec := actionstest.Record(reg)
	rec.AllowHandledErrors()
	register(t, reg, "A", actionstest.Returns(nil).Body)
	reg.AddListener("afterA", actionstest.Fails(errCRM).Listener)
	rec.Step("one")
	_, err := reg.Call(t.Context(), "A", nil)
	require.NoError(t, err)
	steps, invs, errs := rec.Steps(), rec.Invocations(), rec.HandledErrors()
	steps[0], invs[0].Action, errs[0] = "changed", "changed", nil
	assert.Equal(t, []string{"one"}, rec.Steps())
	assert.Equal(t, "A", rec.Invocations()[0].Action)
	assert.NotNil(t, rec.HandledErrors()[0])
}

// The recorder records from the invocations' goroutines while the test
// reads; run with -race.
func TestRecorder_concurrentInvocations(t *testing.T) {
	const n = 50
	reg := actionstest.New(t, actions.WithConcurrentPhases())
	rec := actionstest.Record(reg)
	register(t, reg, "A", rec.Body("body", nil))
	for i := range 3 {
		reg.AddListener("beforeA", rec.Listener(fmt.Sprint("before", i), nil))
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := reg.InvokeAction(t.Context(), "A", nil).Wait(t.Context())
			assert.NoError(t, err)
			_ = rec.Steps()
			_ = rec.Invocations()
		})
	}
	wg.Wait()
	assert.Len(t, rec.Steps(), 4*n)
	invs := rec.Invocations()
	require.Len(t, invs, n)
	for i, inv := range invs {
		assert.Equal(t, "A ok", inv.String())
		if i > 0 {
			assert.Less(t, invs[i-1].ID, inv.ID, "in the order of their IDs")
		}
	}
}
