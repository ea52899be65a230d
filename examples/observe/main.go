// Command observe shows the observer hook: the library's SlogObserver logging
// every invocation, and a metrics observer of its own counting outcomes and
// the peak number of invocations in flight, both fed by one registry.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/go-actions/actions"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "observe:", err)
		os.Exit(1)
	}
}

var (
	errNoName       = errors.New("no name")
	errCardDeclined = errors.New("card declined")
	errAuditDown    = errors.New("audit log unavailable")
)

func run(w io.Writer) error {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug, // SlogObserver logs successes at Debug
		// Times and durations change from run to run; the output must not.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == "duration") {
				return slog.Attr{}
			}
			return a
		},
	}))
	m := newMetrics()
	reg := actions.New(
		actions.WithObserver(actions.SlogObserver(logger)),
		actions.WithObserver(m),
		// The handler gets the invocation's ctx: its action and id come
		// with it, and ErrorAttrs gives the error's details.
		actions.WithErrorHandler(func(ctx context.Context, err error) {
			inv, _ := actions.InvocationFrom(ctx)
			attrs := append([]slog.Attr{slog.String("action", inv.Action), slog.Uint64("id", inv.ID)}, actions.ErrorAttrs(err)...)
			logger.LogAttrs(ctx, slog.LevelError, "after-listener failed", attrs...)
		}),
	)
	if err := register(reg); err != nil {
		return err
	}

	calls := []struct {
		action  string
		payload any
	}{
		{"Greet", "Ada"},
		{"Greet", ""},             // aborted by a before-listener
		{"ChargeCard", 12},        // the body fails
		{"TransferTask", "WT001"}, // nests NotifySupervisor; an after-listener fails
		{"Hangup", nil},           // not registered
		{"Greet", "Mallory"},      // blocked
		{"Greet", 3.14},           // wrong payload type
	}
	unblock := reg.BlockAction("Greet", func(p any) bool { return p == "Mallory" })
	defer unblock()
	for _, c := range calls {
		res, err := reg.Call(ctx, c.action, c.payload)
		line := fmt.Sprintf("=> %s(%#v) = %#v\n\n", c.action, c.payload, res)
		if err != nil {
			line = fmt.Sprintf("=> %s(%#v): %v\n\n", c.action, c.payload, err)
		}
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	return m.print(w)
}

// register registers the actions the program invokes.
func register(reg *actions.Registry) error {
	greet := actions.Typed[string, string](reg, "Greet")
	_, err1 := greet.Register(func(_ context.Context, name string) (string, error) {
		return "hello, " + name, nil
	})
	greet.Before(func(_ context.Context, name string) error {
		if name == "" {
			return actions.Abort(errNoName)
		}
		return nil
	}, actions.Named("require-name"))

	_, err2 := actions.Typed[int, bool](reg, "ChargeCard").Register(func(context.Context, int) (bool, error) {
		return false, errCardDeclined
	})

	notify := actions.Typed[string, bool](reg, "NotifySupervisor")
	_, err3 := notify.Register(func(context.Context, string) (bool, error) { return true, nil })

	transfer := actions.Typed[string, string](reg, "TransferTask")
	_, err4 := transfer.Register(func(ctx context.Context, task string) (string, error) {
		// ctx nests the call: the observer sees NotifySupervisor's parent.
		if _, err := notify.Call(ctx, task); err != nil {
			return "", err
		}
		return task + " transferred", nil
	})
	transfer.After(func(context.Context, string) error { return errAuditDown }, actions.Named("audit"))
	return errors.Join(err1, err2, err3, err4)
}
