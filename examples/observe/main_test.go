package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-actions/actions"
)

func TestRun(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	assert.Equal(t, wantOutput, buf.String())
}

// recordingObserver records its calls and tags the context it returns.
type recordingObserver struct {
	tag   string
	calls *[]string
}

type tagKey struct{}

func (r recordingObserver) InvocationBegin(ctx context.Context, inv actions.Invocation) context.Context {
	seen, _ := ctx.Value(tagKey{}).(string)
	*r.calls = append(*r.calls, r.tag+" begin after "+seen)
	return context.WithValue(ctx, tagKey{}, seen+r.tag)
}

func (r recordingObserver) InvocationEnd(ctx context.Context, _ actions.Invocation, _ actions.Outcome) {
	seen, _ := ctx.Value(tagKey{}).(string)
	*r.calls = append(*r.calls, r.tag+" end with "+seen)
}

func (r recordingObserver) InFlightBegin(context.Context, actions.Invocation) {
	*r.calls = append(*r.calls, r.tag+" in")
}

func (r recordingObserver) InFlightEnd(context.Context, actions.Invocation) {
	*r.calls = append(*r.calls, r.tag+" out")
}

// Several observers: each is fed the context of the one before, and they
// unwind in reverse; the stages see the last observer's context (the
// actions package docs, Observability).
func TestObservers_order(t *testing.T) {
	var calls []string // Call runs in this goroutine: no lock needed
	reg := actions.New(
		actions.WithObserver(recordingObserver{"a", &calls}),
		actions.WithObserver(recordingObserver{"b", &calls}),
	)
	_, err := reg.RegisterAction("X", func(ctx context.Context, _ any) (any, error) {
		seen, _ := ctx.Value(tagKey{}).(string)
		calls = append(calls, "body sees "+seen)
		return nil, nil
	})
	require.NoError(t, err)

	_, err = reg.Call(context.Background(), "X", nil)
	require.NoError(t, err)

	// Check each kind of call on its own, then how they nest.
	only := func(word string) string {
		var out []string
		for _, c := range calls {
			if strings.Contains(c, word) {
				out = append(out, c)
			}
		}
		return strings.Join(out, "|")
	}
	assert.Equal(t, "a begin after |b begin after a", only("begin"))
	assert.Equal(t, "a in|b in", only(" in"))
	assert.Equal(t, "body sees ab", only("body"))
	assert.Equal(t, "b out|a out", only(" out"))
	assert.Equal(t, "b end with ab|a end with ab", only("end with"))
	assert.Less(t, slices.Index(calls, "b begin after a"), slices.Index(calls, "a in"), "in flight after begin")
	assert.Less(t, slices.Index(calls, "body sees ab"), slices.Index(calls, "b end with ab"), "end after the body")
}

// The metrics count invocations in flight as actions.InFlightObserver sees
// them (the actions package docs, "Blocking, de-duplication, in flight").
func TestMetrics_inFlight(t *testing.T) {
	m := newMetrics()
	reg := actions.New(actions.WithObserver(m))
	ctx := context.Background()
	var during []int
	_, err := reg.RegisterAction("Inner", func(context.Context, any) (any, error) {
		m.mu.Lock()
		during = append(during, m.inFlight)
		m.mu.Unlock()
		return nil, nil
	})
	require.NoError(t, err)
	_, err = reg.RegisterAction("Outer", func(ctx context.Context, _ any) (any, error) {
		return reg.Call(ctx, "Inner", nil)
	})
	require.NoError(t, err)
	reg.AddListener("beforeOuter", func(_ context.Context, p any) error {
		if p == "stop" {
			return actions.Abort(errors.New("stop"))
		}
		return nil
	})

	_, err = reg.Call(ctx, "Outer", nil)
	require.NoError(t, err)
	_, err = reg.Call(ctx, "Outer", "stop")
	require.ErrorIs(t, err, actions.ErrAborted)
	_, err = reg.Call(ctx, "Nope", nil)
	require.ErrorIs(t, err, actions.ErrActionNotFound)

	assert.Equal(t, []int{2}, during, "outer and inner in flight together")
	var buf bytes.Buffer
	require.NoError(t, m.print(&buf))
	assert.Equal(t, `metrics:
  Inner            ok       1
  Nope             rejected 1
  Outer            aborted  1
  Outer            ok       1
  in flight now 0, at most 2
`, buf.String())
}

const wantOutput = `level=DEBUG msg="action begin" action=Greet id=1 depth=1
level=DEBUG msg="action done" action=Greet id=1 depth=1 status=ok
=> Greet("Ada") = "hello, Ada"

level=DEBUG msg="action begin" action=Greet id=2 depth=1
level=INFO msg="action aborted" action=Greet id=2 depth=1 status=aborted stage="before phase" listener=require-name reason="no name" err="actions: Greet: action aborted in before phase by listener \"require-name\": no name"
=> Greet(""): actions: Greet: action aborted in before phase by listener "require-name": no name

level=DEBUG msg="action begin" action=ChargeCard id=3 depth=1
level=WARN msg="action failed" action=ChargeCard id=3 depth=1 status=failed stage=body err="actions: ChargeCard: action failed in body: card declined"
=> ChargeCard(12): actions: ChargeCard: action failed in body: card declined

level=DEBUG msg="action begin" action=TransferTask id=4 depth=1
level=DEBUG msg="action begin" action=NotifySupervisor id=5 parent=4 depth=2
level=DEBUG msg="action done" action=NotifySupervisor id=5 parent=4 depth=2 status=ok
level=ERROR msg="after-listener failed" action=TransferTask id=4 status=failed stage="after phase" listener=audit err="actions: TransferTask: after-listener \"audit\" failed: audit log unavailable"
level=DEBUG msg="action done" action=TransferTask id=4 depth=1 status=ok
=> TransferTask("WT001") = "WT001 transferred"

level=DEBUG msg="action begin" action=Hangup id=6 depth=1
level=INFO msg="action rejected" action=Hangup id=6 depth=1 status=rejected err="actions: Hangup: action not found"
=> Hangup(<nil>): actions: Hangup: action not found

level=DEBUG msg="action begin" action=Greet id=7 depth=1
level=INFO msg="action rejected" action=Greet id=7 depth=1 status=rejected err="actions: Greet: action blocked"
=> Greet("Mallory"): actions: Greet: action blocked

level=DEBUG msg="action begin" action=Greet id=8 depth=1
level=INFO msg="action rejected" action=Greet id=8 depth=1 status=rejected err="actions: Greet: wrong payload type: payload is float64, want string"
=> Greet(3.14): actions: Greet: wrong payload type: payload is float64, want string

metrics:
  ChargeCard       failed   1
  Greet            aborted  1
  Greet            ok       1
  Greet            rejected 2
  Hangup           rejected 1
  NotifySupervisor ok       1
  TransferTask     ok       1
  in flight now 0, at most 2
`
