// Command contactcenter runs the contact centre's AcceptTask on three
// replicas of a task service, over NATS, in one process: an embedded NATS
// server with JetStream; three replicas, each with its own connection and
// registry, serving AcceptTask in one queue group and publishing an event
// for each invocation; a front-end that invokes AcceptTask remotely, with
// the agent's confirmation as a local before-listener; a block placed
// through one replica that holds on all of them; and a reporting service
// that consumes the events.
//
//	cd natsactions && go run ./examples/contactcenter
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "contactcenter:", err)
		os.Exit(1)
	}
}

// burst is how many tasks the front-end accepts in a row. The queue group
// picks a replica at random for each request: with 48, the chance that one
// of three replicas takes none is 3·(2/3)^48, about 10⁻⁸.
const burst = 48

func run(w io.Writer) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// services (replicas, front-end) shut down before the report; infra
	// (NATS server, reporting service) after it.
	var infra, services closers
	defer func() { err = errors.Join(err, services.close(), infra.close()) }()
	url, err := startNATS(&infra)
	if err != nil {
		return err
	}
	report, err := startReporting(ctx, url, &infra)
	if err != nil {
		return err
	}
	st := &store{status: map[string]string{}}
	var reps []*replica
	for i := range 3 {
		r, err := startReplica(ctx, fmt.Sprintf("replica-%d", i+1), url, st, &services)
		if err != nil {
			return err
		}
		reps = append(reps, r)
	}
	accept, err := startFrontEnd(url, "WT49", &services)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, `3 replicas serve AcceptTask in the queue group "q"; the front-end calls it through a Client.`)

	fmt.Fprintf(w, "\n# 1. The front-end accepts %d offered tasks; the queue group spreads them\n", burst)
	before := requests(reps)
	for i := 1; i <= burst; i++ {
		sid := fmt.Sprintf("WT%02d", i)
		st.offer(sid)
		if _, err := accept.Call(ctx, sid); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "%d tasks assigned, taken by %s\n", burst, took(reps, before))

	fmt.Fprintln(w, "\n# 2. The agent declines WT49: the front-end's own before-listener vetoes it")
	st.offer("WT49")
	before = requests(reps)
	_, err = accept.Call(ctx, "WT49")
	fmt.Fprintf(w, "error: %v\nsent to: %s\n", err, took(reps, before))

	fmt.Fprintln(w, "\n# 3. A second click on WT01: a replica's before-listener aborts it")
	_, err = accept.Call(ctx, "WT01")
	fmt.Fprintf(w, "error: %v\nerrors.Is ErrAborted: %t; the replica's listener: %q\n",
		err, errors.Is(err, actions.ErrAborted), natsactions.RemoteErrorOf(err).Listener)

	fmt.Fprintln(w, "\n# 4. Maintenance: AcceptTask blocked through replica-1, refused on every replica")
	if err := everywhere(ctx, reps, reps[0], true); err != nil {
		return err
	}
	st.offer("WT50")
	before = requests(reps)
	var refusals []string
	for took(reps, before) != "replica-1, replica-2, replica-3" {
		_, err := accept.Call(ctx, "WT50")
		if err == nil || len(refusals) > 200 {
			return fmt.Errorf("blocked AcceptTask: %v, after %d refusals", err, len(refusals))
		}
		refusals = append(refusals, err.Error())
	}
	fmt.Fprintf(w, "refused by %s, every time with:\n  %s\n", took(reps, before), strings.Join(slices.Compact(slices.Sorted(slices.Values(refusals))), "\n  "))
	if err := everywhere(ctx, reps, reps[2], false); err != nil {
		return err
	}
	res, err := accept.Call(ctx, "WT50")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "unblocked through replica-3: WT50 %s\n", res)

	fmt.Fprintln(w, "\n# 5. The replicas shut down; the reporting service reports")
	if err := services.close(); err != nil {
		return err
	}
	if err := until(ctx, func() bool { return report.count() == burst+2 }); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	report.print(w)
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

// until polls cond every millisecond until it holds or ctx ends.
func until(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// connect connects to url as name, closed by down, with its JetStream.
func connect(url, name string, down *closers) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url, nats.Name(name))
	if err != nil {
		return nil, nil, err
	}
	down.add(func(context.Context) error { nc.Close(); return nil })
	js, err := jetstream.New(nc)
	return nc, js, err
}

// startNATS starts the embedded NATS server, its JetStream storing in a
// temporary folder, both removed by down.
func startNATS(down *closers) (url string, err error) {
	dir, err := os.MkdirTemp("", "contactcenter-nats")
	if err != nil {
		return "", err
	}
	down.add(func(context.Context) error { return os.RemoveAll(dir) })
	ns, err := natstest.Start("contactcenter", dir)
	if err != nil {
		return "", err
	}
	down.add(func(context.Context) error { ns.Shutdown(); ns.WaitForShutdown(); return nil })
	return ns.ClientURL(), nil
}

// closers are what run shuts down, the last started first.
type closers []func(context.Context) error

func (c *closers) add(f func(context.Context) error) { *c = append(*c, f) }

// close runs the closers once each, within 10 s, and joins their errors.
func (c *closers) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for i := len(*c) - 1; i >= 0; i-- {
		errs = append(errs, (*c)[i](ctx))
	}
	*c = nil
	return errors.Join(errs...)
}
