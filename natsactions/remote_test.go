package natsactions_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type order struct {
	ID  string `json:"id"`
	Qty int    `json:"qty"`
}

type receipt struct {
	OrderID string `json:"order_id"`
	Total   int    `json:"total"`
}

func TestRoundTripUntyped(t *testing.T) {
	e := newEnv(t)
	reg := actions.New()
	_, err := reg.RegisterAction("Echo", echo)
	require.NoError(t, err)
	e.serve(t, reg, []string{"Echo"})

	got, err := e.client.Call(t.Context(), "Echo", "WT1")
	require.NoError(t, err)
	assert.Equal(t, "echo WT1", got)

	got, err = e.client.Call(t.Context(), "Echo", map[string]int{"qty": 2})
	require.NoError(t, err)
	assert.Equal(t, "echo map[qty:2]", got, "JSON objects arrive as map[string]any")
}

func TestRoundTripTyped(t *testing.T) {
	e := newEnv(t)
	reg := actions.New()
	place := actions.Typed[order, receipt](reg, "PlaceOrder")
	_, err := place.Register(func(_ context.Context, o order) (receipt, error) {
		return receipt{OrderID: o.ID, Total: o.Qty * 5}, nil
	})
	require.NoError(t, err)
	srv := e.serve(t, reg, nil)
	require.NoError(t, natsactions.ServeTyped(srv, place))

	r, err := natsactions.CallTyped[order, receipt](t.Context(), e.client, "PlaceOrder", order{ID: "o1", Qty: 3})
	require.NoError(t, err)
	assert.Equal(t, receipt{OrderID: "o1", Total: 15}, r)

	local := actions.New()
	remote := actions.Typed[order, receipt](local, "PlaceOrder")
	_, err = natsactions.RegisterTyped(e.client, remote)
	require.NoError(t, err)
	r, err = remote.Call(t.Context(), order{ID: "o2", Qty: 1})
	require.NoError(t, err)
	assert.Equal(t, receipt{OrderID: "o2", Total: 5}, r)
}

func TestLocalListenersAroundRemoteBody(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{}
	served := actions.New()
	_, err := served.RegisterAction("Accept", func(ctx context.Context, p any) (any, error) {
		rec.add("server body")
		return "accepted " + p.(string), nil
	})
	require.NoError(t, err)
	served.AddListener("beforeAccept", func(context.Context, any) error { rec.add("server before"); return nil })
	served.AddListener("afterAccept", func(context.Context, any) error { rec.add("server after"); return nil })
	e.serve(t, served, []string{"Accept"})

	local := actions.New()
	_, err = e.client.Register(local, "Accept")
	require.NoError(t, err)
	local.AddListener("beforeAccept", func(_ context.Context, p any) error {
		rec.add("local before")
		if p == "WT2" {
			return actions.Abort(errors.New("agent declined"))
		}
		return nil
	})
	local.ReplaceAction("Accept", func(ctx context.Context, p any, original actions.Body) (any, error) {
		rec.add("local replace>")
		res, err := original(ctx, p)
		rec.add("local <replace")
		return res, err
	})
	local.AddListener("afterAccept", func(ctx context.Context, p any) error { rec.add("local after"); return nil })

	res, err := local.Call(t.Context(), "Accept", "WT1")
	require.NoError(t, err)
	assert.Equal(t, "accepted WT1", res)
	assert.Equal(t, "local before, local replace>, server before, server body, server after, local <replace, local after", rec.String())

	rec = &recorder{}
	_, err = local.Call(t.Context(), "Accept", "WT2")
	assert.ErrorIs(t, err, actions.ErrAborted)
	assert.Equal(t, "local before", rec.String(), "a local veto sends nothing")
}

// TestErrorClasses checks that every kind of error the server's lifecycle
// ends with comes back as the core's, directly and through a local body.
func TestErrorClasses(t *testing.T) {
	e := newEnv(t)
	reg := actions.New()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	must := func(_ func() bool, err error) { require.NoError(t, err) }
	must(reg.RegisterAction("Abort", echo))
	reg.AddListener("beforeAbort", func(context.Context, any) error {
		return actions.Abort(errors.New("card declined"))
	}, actions.Named("fraud"))
	must(reg.RegisterAction("Blocked", echo))
	reg.BlockAction("Blocked", nil)
	must(reg.RegisterAction("Pending", func(ctx context.Context, p any) (any, error) {
		entered <- struct{}{}
		<-release
		return p, nil
	}, actions.Deduplicate(func(any) string { return "k" }, actions.RejectPending)))
	must(reg.RegisterAction("Fail", func(context.Context, any) (any, error) { return nil, errors.New("db down") }))
	must(reg.RegisterAction("Panic", func(context.Context, any) (any, error) { panic("boom") }))
	must(reg.RegisterAction("BeforeFails", echo))
	reg.AddListener("beforeBeforeFails", func(context.Context, any) error { return errors.New("quota") }, actions.Named("quota"))
	e.serve(t, reg, []string{"Abort", "Blocked", "Pending", "Fail", "Panic", "BeforeFails", "NotRegistered"})

	pending := make(chan error, 1)
	go func() { _, err := e.client.Call(context.Background(), "Pending", 1); pending <- err }()
	<-entered
	defer func() {
		close(release)
		assert.NoError(t, <-pending, "the invocation held in flight")
	}()

	local := actions.New()
	for _, n := range []string{"Abort", "Blocked", "Pending", "Fail", "Panic", "BeforeFails", "NotRegistered", "NotServed"} {
		_, err := e.client.Register(local, n)
		require.NoError(t, err)
	}

	for _, tc := range []struct {
		action   string
		kind     error
		stage    actions.Stage
		listener string
		text     string
		is       []error
	}{
		{"Abort", actions.ErrAborted, actions.StageBefore, "fraud", "card declined", nil},
		{"Blocked", actions.ErrBlocked, actions.StageNone, "", "action blocked", nil},
		{"Pending", actions.ErrPending, actions.StageNone, "", "action pending", nil},
		{"Fail", actions.ErrFailed, actions.StageBody, "", "db down", nil},
		{"Panic", actions.ErrFailed, actions.StageBody, "", "panic: boom", []error{actions.ErrPanicked}},
		{"BeforeFails", actions.ErrFailed, actions.StageBefore, "quota", "quota", nil},
		{"NotRegistered", actions.ErrActionNotFound, actions.StageNone, "", "action not found", nil},
		{"NotServed", actions.ErrActionNotFound, actions.StageNone, "", "no responders", []error{natsactions.ErrNoResponders}},
	} {
		t.Run(tc.action, func(t *testing.T) {
			_, err := e.client.Call(t.Context(), tc.action, "p")
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
			for _, want := range tc.is {
				assert.ErrorIs(t, err, want)
			}
			ae := actions.ErrorOf(err)
			require.NotNil(t, ae, "the direct call returns an *actions.Error: %v", err)
			assert.Equal(t, tc.kind, ae.Kind)
			assert.Equal(t, tc.stage, ae.Stage)
			assert.Equal(t, tc.listener, ae.Listener)
			assert.Equal(t, tc.action, ae.Action)
			assert.Contains(t, err.Error(), tc.text)

			// Through a local body the core wraps it as the body's failure;
			// the remote kind is still matched, and found whole.
			_, lerr := local.Call(t.Context(), tc.action, "p")
			assert.ErrorIs(t, lerr, tc.kind)
			le := actions.ErrorOf(lerr)
			require.NotNil(t, le)
			assert.Equal(t, actions.ErrFailed, le.Kind)
			assert.Equal(t, actions.StageBody, le.Stage)
			assert.Equal(t, actions.StatusFailed, actions.StatusOf(lerr))
			if tc.action == "NotServed" {
				assert.Nil(t, natsactions.RemoteErrorOf(lerr), "no server answered")
				return
			}
			re := natsactions.RemoteErrorOf(lerr)
			require.NotNil(t, re)
			assert.Equal(t, tc.kind, re.Kind)
			assert.Equal(t, tc.listener, re.Listener)
			assert.Same(t, re, natsactions.RemoteErrorOf(re))
		})
	}
}

func TestDeadline(t *testing.T) {
	e := newEnv(t, natsactions.WithTimeout(2*time.Second))
	reg := actions.New()
	deadlines := make(chan time.Time, 1)
	_, err := reg.RegisterAction("When", func(ctx context.Context, _ any) (any, error) {
		d, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		deadlines <- d
		return nil, nil
	})
	require.NoError(t, err)
	_, err = reg.RegisterAction("Slow", func(ctx context.Context, _ any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	require.NoError(t, err)
	e.serve(t, reg, []string{"When", "Slow"})

	t.Run("caller's", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		want, _ := ctx.Deadline()
		_, err := e.client.Call(ctx, "When", nil)
		require.NoError(t, err)
		got := <-deadlines
		assert.WithinDuration(t, want, got, 50*time.Millisecond)
	})
	t.Run("default", func(t *testing.T) {
		start := time.Now()
		_, err := e.client.Call(context.Background(), "When", nil)
		require.NoError(t, err)
		assert.WithinDuration(t, start.Add(2*time.Second), <-deadlines, 50*time.Millisecond)
	})
	t.Run("exceeded", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := e.client.Call(ctx, "Slow", nil)
		assert.Less(t, time.Since(start), time.Second)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, actions.ErrFailed)
		assert.Equal(t, actions.StatusCancelled, actions.StatusOf(err))

		local := actions.New()
		_, err = e.client.Register(local, "Slow")
		require.NoError(t, err)
		ctx2, cancel2 := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel2()
		_, err = local.Call(ctx2, "Slow", nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, actions.StatusCancelled, actions.StatusOf(err), "the core sees its own ctx's deadline")
	})
	t.Run("default exceeded", func(t *testing.T) {
		c := natsactions.NewClient(e.useNC, natsactions.WithTimeout(150*time.Millisecond))
		_, err := c.Call(context.Background(), "Slow", nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, actions.StatusFailed, actions.StatusOf(err), "a timeout of the call's own is a failure")
	})
}

func TestCallerTravels(t *testing.T) {
	e := newEnv(t)
	served := actions.New()
	got := make(chan natsactions.Incoming, 1)
	_, err := served.RegisterAction("Who", func(ctx context.Context, _ any) (any, error) {
		in, ok := natsactions.IncomingFrom(ctx)
		if !ok {
			return nil, errors.New("no incoming request")
		}
		got <- in
		return nil, nil
	})
	require.NoError(t, err)
	e.serve(t, served, []string{"Who"})

	local := actions.New(actions.WithObserver(idObserver{}))
	_, err = e.client.Register(local, "Who")
	require.NoError(t, err)
	var callerID uint64
	local.AddListener("beforeWho", func(ctx context.Context, _ any) error {
		inv, _ := actions.InvocationFrom(ctx)
		callerID = inv.ID
		return nil
	})
	ctx := natsactions.WithHeader(t.Context(), "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	_, err = local.Call(ctx, "Who", nil)
	require.NoError(t, err)
	in := <-got
	require.NotZero(t, callerID)
	assert.Equal(t, callerID, in.CallerID)
	assert.Equal(t, "Who", in.CallerAction)
	assert.Equal(t, "Who", in.Action)
	assert.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", in.Header.Get("traceparent"))
	assert.Equal(t, strconv.FormatUint(callerID, 10), in.Header.Get(natsactions.HeaderCallerID))

	_, ok := natsactions.IncomingFrom(t.Context())
	assert.False(t, ok)
}
