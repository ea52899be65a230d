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
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

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
	c := &centre{w: w, st: &store{status: map[string]string{}}}
	for i := range 3 {
		r, err := startReplica(ctx, fmt.Sprintf("replica-%d", i+1), url, c.st, &services)
		if err != nil {
			return err
		}
		c.reps = append(c.reps, r)
	}
	if c.accept, err = startFrontEnd(url, "WT49", &services); err != nil {
		return err
	}
	fmt.Fprintln(w, `3 replicas serve AcceptTask in the queue group "q"; the front-end calls it through a Client.`)
	for _, step := range []func(context.Context) error{c.spread, c.veto, c.secondClick, c.maintenance} {
		if err := step(ctx); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\n# 5. The replicas shut down; the reporting service reports")
	if err := services.close(); err != nil { // the publishers flush their events
		return err
	}
	// Published: the burst, the second click (aborted) and WT50. The veto
	// sent nothing; the refusals ran nothing.
	if err := until(ctx, func() bool { return report.count() == burst+2 }); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	report.print(w)
	return nil
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
