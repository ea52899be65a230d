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

// connect starts an embedded NATS server, with JetStream, storing under a
// temporary folder, and connects to it; stop ends both. It panics if the
// server cannot start: an example has nothing to show without it.
func connect() (nc *nats.Conn, js jetstream.JetStream, stop func()) {
	dir, err := os.MkdirTemp("", "natsactions-example")
	if err != nil {
		panic(err)
	}
	srv, err := natstest.Start("example", dir)
	if err != nil {
		os.RemoveAll(dir)
		panic(err)
	}
	stop = func() {
		if nc != nil {
			nc.Close()
		}
		srv.Shutdown()
		srv.WaitForShutdown()
		os.RemoveAll(dir)
	}
	if nc, err = nats.Connect(srv.ClientURL()); err == nil {
		js, err = jetstream.New(nc)
	}
	if err != nil {
		stop()
		panic(err)
	}
	return nc, js, stop
}

// One process serves AcceptTask, with its own listener; another invokes it
// directly. The remote abort comes back as the core's error, with its
// listener and reason.
func Example() {
	nc, _, stop := connect()
	defer stop()
	ctx := context.Background()

	reg := actions.New()
	reg.RegisterAction("AcceptTask", func(ctx context.Context, task any) (any, error) {
		return fmt.Sprint("accepted ", task), nil
	})
	reg.AddListener("beforeAcceptTask", func(ctx context.Context, task any) error {
		if task == "WT2" {
			return actions.Abort(errors.New("agent declined"))
		}
		return nil
	}, actions.Named("confirm"))
	srv, _ := natsactions.NewServer(nc, reg)
	defer srv.Close(ctx)
	srv.Serve("AcceptTask")

	client := natsactions.NewClient(nc)
	fmt.Println(client.Call(ctx, "AcceptTask", "WT1"))
	_, err := client.Call(ctx, "AcceptTask", "WT2")
	e := actions.ErrorOf(err)
	fmt.Println(errors.Is(err, actions.ErrAborted), e.Stage, e.Listener)
	fmt.Println(err)
	// Output:
	// accepted WT1 <nil>
	// true before phase confirm
	// actions: AcceptTask: action aborted in before phase by listener "confirm": natsactions: remote: agent declined
}

// A remote action registered locally: local listeners and replacements run
// around the request, as around any body; the typed handle checks types at
// compile time on both sides.
func ExampleRegisterTyped() {
	nc, _, stop := connect()
	defer stop()
	ctx := context.Background()

	type task struct{ ID string }
	served := actions.New()
	accept := actions.Typed[task, string](served, "AcceptTask")
	accept.Register(func(ctx context.Context, t task) (string, error) {
		fmt.Println("server: body", t.ID)
		return "accepted " + t.ID, nil
	})
	srv, _ := natsactions.NewServer(nc, served)
	defer srv.Close(ctx)
	natsactions.ServeTyped(srv, accept)

	local := actions.New()
	remote := actions.Typed[task, string](local, "AcceptTask")
	natsactions.RegisterTyped(natsactions.NewClient(nc), remote)
	remote.Before(func(ctx context.Context, t task) error {
		fmt.Println("local: before", t.ID)
		return nil
	})
	remote.After(func(ctx context.Context, t task) error {
		fmt.Println("local: after", t.ID)
		return nil
	})
	fmt.Println(remote.Call(ctx, task{ID: "WT1"}))
	// Output:
	// local: before WT1
	// server: body WT1
	// local: after WT1
	// accepted WT1 <nil>
}

// A served action reads who called it and the headers the caller set.
func ExampleIncomingFrom() {
	nc, _, stop := connect()
	defer stop()
	ctx := context.Background()

	reg := actions.New()
	reg.RegisterAction("Who", func(ctx context.Context, _ any) (any, error) {
		in, _ := natsactions.IncomingFrom(ctx)
		return in.Header.Get("tenant"), nil
	})
	srv, _ := natsactions.NewServer(nc, reg)
	defer srv.Close(ctx)
	srv.Serve("Who")

	ctx = natsactions.WithHeader(ctx, "tenant", "acme")
	fmt.Println(natsactions.NewClient(nc).Call(ctx, "Who", nil))
	// Output:
	// acme <nil>
}

// A replica publishes an event for each invocation of AcceptTask; a
// billing service, which may run anywhere, handles each one.
func ExamplePublisher() {
	_, js, stop := connect()
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
	_, js, stop := connect()
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
	_, err := regs[1].Call(ctx, "Refund", "order-7")
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
// those that start later, until it is removed. The error of an invocation
// it holds says where the block came from.
func ExampleBlocks() {
	_, js, stop := connect()
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
	_, err := regB.Call(ctx, "Ship", "acme")
	var where *natsactions.ClusterBlockError
	fmt.Println(errors.Is(err, actions.ErrBlocked), errors.As(err, &where) && where.Keyed, where.Bucket)
	fmt.Println(err)
	fmt.Println(regB.Call(ctx, "Ship", "globex"))

	b.UnblockKey(ctx, "Ship", "acme") // returns once it holds on B; A follows within milliseconds
	for _, err := regA.Call(ctx, "Ship", "acme"); err != nil; _, err = regA.Call(ctx, "Ship", "acme") {
		time.Sleep(time.Millisecond)
	}
	fmt.Println(regA.Call(ctx, "Ship", "acme"))
	// Output:
	// true true actions_blocks
	// actions: Ship: action blocked: natsactions: key blocked on every replica through bucket "actions_blocks"
	// shipped <nil>
	// shipped <nil>
}
