package actions_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-actions/actions"
)

func Example() {
	ctx, reg := context.Background(), actions.New()
	reg.RegisterAction("AcceptTask", func(ctx context.Context, task any) (any, error) {
		return fmt.Sprint("accepted ", task), nil
	})
	reg.AddListener("beforeAcceptTask", func(ctx context.Context, task any) error {
		if task == "WT2" {
			return actions.Abort(errors.New("agent declined"))
		}
		return nil
	})
	reg.AddListener("afterAcceptTask", func(ctx context.Context, task any) error {
		fmt.Println("after", task)
		return nil
	})
	reg.ReplaceAction("AcceptTask", func(ctx context.Context, task any, original actions.Body) (any, error) {
		fmt.Println("replacement runs, then calls original")
		return original(ctx, task)
	})
	for _, task := range []string{"WT1", "WT2"} {
		fmt.Println(reg.InvokeAction(ctx, "AcceptTask", task).Wait(ctx))
	}
	// Output:
	// replacement runs, then calls original
	// after WT1
	// accepted WT1 <nil>
	// <nil> actions: AcceptTask: action aborted in before phase: agent declined
}
