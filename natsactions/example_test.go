package natsactions_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/nats-io/nats.go"
)

// connect starts an embedded NATS server and returns a connection to it and
// what ends both.
func connect() (*nats.Conn, func()) {
	dir, _ := os.MkdirTemp("", "natsactions-example")
	s, err := natstest.Start("example", dir)
	if err != nil {
		panic(err)
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		panic(err)
	}
	return nc, func() { nc.Close(); s.Shutdown(); s.WaitForShutdown(); os.RemoveAll(dir) }
}

// One process serves AcceptTask, with its own listener; another invokes it
// directly. The remote abort comes back as the core's error, with its
// listener and reason.
func Example() {
	nc, stop := connect()
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
	// actions: AcceptTask: action aborted in before phase by listener "confirm": remote: agent declined
}

// A remote action registered locally: local listeners and replacements run
// around the request, as around any body; the typed handle checks types at
// compile time on both sides.
func ExampleRegisterTyped() {
	nc, stop := connect()
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
	nc, stop := connect()
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
