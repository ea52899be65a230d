package actions_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-actions/actions"
)

// At most one export runs at a time and one more may wait for it; a third
// is refused at once. The waiting InvokeAction holds no goroutine until the
// running export hands it the slot.
func ExampleBulkhead() {
	ctx := context.Background()
	reg := actions.New()
	started, release := make(chan string, 2), make(chan struct{})
	must(reg.RegisterAction("Export", func(_ context.Context, payload any) (any, error) {
		started <- fmt.Sprint(payload)
		<-release
		return fmt.Sprint("exported ", payload), nil
	}, actions.Bulkhead(1, 1)))

	first := reg.InvokeAction(ctx, "Export", "report")
	fmt.Println("started:", <-started)
	second := reg.InvokeAction(ctx, "Export", "invoices")
	fmt.Println("running:", reg.InFlight("Export"), "waiting:", reg.Waiting("Export"))

	_, err := reg.Call(ctx, "Export", "audit")
	fmt.Println(errors.Is(err, actions.ErrBusy), err)

	close(release)
	fmt.Println(first.Result())
	fmt.Println("started:", <-started)
	fmt.Println(second.Result())
	// Output:
	// started: report
	// running: 1 waiting: 1
	// true actions: Export: action busy: limit 1, queue 1, all taken
	// exported report <nil>
	// started: invoices
	// exported invoices <nil>
}
