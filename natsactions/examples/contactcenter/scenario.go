package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
)

// centre is the contact centre as the scenario drives it: the task store,
// the replicas and the front-end's AcceptTask. Each step prints what it
// shows under a heading.
type centre struct {
	w      io.Writer
	st     *store
	reps   []*replica
	accept actions.Action[string, string]
}

// burst is how many tasks the front-end accepts in a row. The queue group
// picks a replica at random for each request: with 48, the chance that one
// of three replicas takes none is 3·(2/3)^48, about 10⁻⁸.
const burst = 48

func (c *centre) spread(ctx context.Context) error {
	fmt.Fprintf(c.w, "\n# 1. The front-end accepts %d offered tasks; the queue group spreads them\n", burst)
	before := requests(c.reps)
	for i := 1; i <= burst; i++ {
		sid := fmt.Sprintf("WT%02d", i)
		c.st.offer(sid)
		if _, err := c.accept.Call(ctx, sid); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.w, "%d tasks assigned, taken by %s\n", burst, took(c.reps, before))
	return nil
}

func (c *centre) veto(ctx context.Context) error {
	fmt.Fprintln(c.w, "\n# 2. The agent declines WT49: the front-end's own before-listener vetoes it")
	c.st.offer("WT49")
	before := requests(c.reps)
	_, err := c.accept.Call(ctx, "WT49")
	fmt.Fprintf(c.w, "error: %v\nsent to: %s\n", err, took(c.reps, before))
	return nil
}

func (c *centre) secondClick(ctx context.Context) error {
	fmt.Fprintln(c.w, "\n# 3. A second click on WT01: a replica's before-listener aborts it")
	_, err := c.accept.Call(ctx, "WT01")
	fmt.Fprintf(c.w, "error: %v\nerrors.Is ErrAborted: %t; the replica's listener: %q\n",
		err, errors.Is(err, actions.ErrAborted), natsactions.RemoteErrorOf(err).Listener)
	return nil
}

// maintenance blocks AcceptTask through one replica, calls it until every
// replica has refused it, and unblocks it through another.
func (c *centre) maintenance(ctx context.Context) error {
	fmt.Fprintln(c.w, "\n# 4. Maintenance: AcceptTask blocked through replica-1, refused on every replica")
	if err := everywhere(ctx, c.reps, c.reps[0], true); err != nil {
		return err
	}
	c.st.offer("WT50")
	before := requests(c.reps)
	var refusals []string
	for took(c.reps, before) != "replica-1, replica-2, replica-3" {
		_, err := c.accept.Call(ctx, "WT50")
		if err == nil || len(refusals) > 200 {
			return fmt.Errorf("blocked AcceptTask: %v, after %d refusals", err, len(refusals))
		}
		refusals = append(refusals, err.Error())
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(refusals)))
	fmt.Fprintf(c.w, "refused by %s, every time with:\n  %s\n", took(c.reps, before), strings.Join(distinct, "\n  "))
	if err := everywhere(ctx, c.reps, c.reps[2], false); err != nil {
		return err
	}
	res, err := c.accept.Call(ctx, "WT50")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "unblocked through replica-3: WT50 %s\n", res)
	return nil
}

// startFrontEnd starts the agent's UI: a registry of its own whose
// AcceptTask sends the request to the replicas, with the agent's
// confirmation as a local before-listener. The agent declines the task
// declined; the veto sends nothing.
func startFrontEnd(url, declined string, down *closers) (actions.Action[string, string], error) {
	nc, _, err := connect(url, "front-end", down)
	if err != nil {
		return actions.Action[string, string]{}, err
	}
	reg := actions.New()
	down.add(reg.Close)
	accept := actions.Typed[string, string](reg, "AcceptTask")
	accept.Before(func(_ context.Context, sid string) error {
		if sid == declined {
			return actions.Abort(fmt.Errorf("agent declined %s", sid))
		}
		return nil
	}, actions.Named("confirm-accept"))
	_, err = natsactions.RegisterTyped(natsactions.NewClient(nc), accept)
	return accept, err
}

// everywhere blocks AcceptTask through r (or unblocks it), which returns
// once the change holds on r, and waits until it holds on every replica.
func everywhere(ctx context.Context, reps []*replica, r *replica, block bool) error {
	change := r.blocks.Unblock
	if block {
		change = r.blocks.Block
	}
	if err := change(ctx, "AcceptTask"); err != nil {
		return err
	}
	return until(ctx, func() bool {
		return !slices.ContainsFunc(reps, func(r *replica) bool { return r.blocked() != block })
	})
}

// requests is each replica's count of AcceptTask requests answered.
func requests(reps []*replica) []int64 {
	n := make([]int64, len(reps))
	for i, r := range reps {
		st, _ := r.srv.Stats("AcceptTask")
		n[i] = st.Requests
	}
	return n
}

// took names the replicas that answered requests since before.
func took(reps []*replica, before []int64) string {
	var names []string
	for i, n := range requests(reps) {
		if n > before[i] {
			names = append(names, reps[i].name)
		}
	}
	return cmp.Or(strings.Join(names, ", "), "no replica")
}
