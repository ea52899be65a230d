package natsactions_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// connect starts an embedded server storing under a temporary folder and
// connects to it; stop undoes both.
func connect() (js jetstream.JetStream, stop func(), err error) {
	dir, err := os.MkdirTemp("", "natsactions-example")
	if err != nil {
		return nil, nil, err
	}
	srv, err := natstest.Start("example", dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err == nil {
		js, err = jetstream.New(nc)
	}
	stop = func() {
		if nc != nil {
			nc.Close()
		}
		srv.Shutdown()
		srv.WaitForShutdown()
		os.RemoveAll(dir)
	}
	if err != nil {
		stop()
		return nil, nil, err
	}
	return js, stop, nil
}

// A replica publishes an event for each invocation of AcceptTask; a
// billing service, which may run anywhere, handles each one.
func ExamplePublisher() {
	js, stop, err := connect()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	pub, err := natsactions.NewPublisher(ctx, js, natsactions.WithActions("AcceptTask"))
	if err != nil {
		fmt.Println(err)
		return
	}
	reg := actions.New(actions.WithObserver(pub))
	reg.RegisterAction("AcceptTask", func(ctx context.Context, task any) (any, error) {
		if task == "WT2" {
			return nil, errors.New("no agent")
		}
		return "accepted " + task.(string), nil
	})
	reg.Call(ctx, "AcceptTask", "WT1")
	reg.Call(ctx, "AcceptTask", "WT2")
	reg.Close(ctx)
	pub.Close(ctx) // after the registry's: every event is queued, then published

	done := make(chan struct{})
	n := 0
	sub, err := natsactions.Subscribe(ctx, js, "billing", func(ctx context.Context, ev *natsactions.Event) error {
		var task, result string
		if err := ev.DecodePayload(&task); err != nil {
			return err
		}
		if err := ev.DecodeResult(&result); err != nil {
			return err
		}
		fmt.Printf("%s %s %s %q %q\n", ev.Action, task, ev.Status, result, ev.Error)
		if n++; n == 2 {
			close(done)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	<-done
	sub.Stop(ctx)
	// Output:
	// AcceptTask WT1 ok "accepted WT1" ""
	// AcceptTask WT2 failed "" "actions: AcceptTask: action failed in body: no agent"
}

// Two replicas share an action that must not run twice at once for one
// order: while one runs it, the other's invocation fails with ErrPending.
func ExampleExclusive() {
	js, stop, err := connect()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	running, release := make(chan struct{}), make(chan struct{})
	var regs []*actions.Registry
	for range 2 {
		x, err := natsactions.NewExclusive(ctx, js)
		if err != nil {
			fmt.Println(err)
			return
		}
		reg := actions.New()
		reg.RegisterAction("Refund", func(ctx context.Context, order any) (any, error) {
			running <- struct{}{}
			<-release
			return "refunded " + order.(string), nil
		})
		x.Replace(reg, "Refund", func(order any) string { return order.(string) })
		regs = append(regs, reg)
	}

	first := regs[0].InvokeAction(ctx, "Refund", "order-7")
	<-running
	_, err = regs[1].Call(ctx, "Refund", "order-7")
	fmt.Println(errors.Is(err, actions.ErrPending), err)
	close(release)
	fmt.Println(first.Wait(ctx))
	go func() { <-running }()
	fmt.Println(regs[1].Call(ctx, "Refund", "order-7"))
	// Output:
	// true actions: Refund: action failed in body: natsactions: Refund: key "order-7" claimed by another invocation
	// refunded order-7 <nil>
	// refunded order-7 <nil>
}

// A block placed through one replica holds on every replica, including
// those that start later, until it is removed.
func ExampleBlocks() {
	js, stop, err := connect()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	replica := func() (*actions.Registry, *natsactions.Blocks) {
		reg := actions.New()
		reg.RegisterAction("Ship", func(ctx context.Context, customer any) (any, error) { return "shipped", nil })
		b, err := natsactions.NewBlocks(ctx, js, reg,
			natsactions.WithBlockKey("Ship", func(customer any) string { return customer.(string) }))
		if err != nil {
			panic(err)
		}
		return reg, b
	}
	regA, a := replica()
	defer a.Close()
	a.BlockKey(ctx, "Ship", "acme")

	regB, b := replica() // starts later: applies what is set
	defer b.Close()
	fmt.Println(regB.Call(ctx, "Ship", "acme"))
	fmt.Println(regB.Call(ctx, "Ship", "globex"))

	b.UnblockKey(ctx, "Ship", "acme") // returns once it holds on B; A follows within milliseconds
	for _, err := regA.Call(ctx, "Ship", "acme"); err != nil; _, err = regA.Call(ctx, "Ship", "acme") {
		time.Sleep(time.Millisecond)
	}
	fmt.Println(regA.Call(ctx, "Ship", "acme"))
	// Output:
	// <nil> actions: Ship: action blocked
	// shipped <nil>
	// shipped <nil>
}
