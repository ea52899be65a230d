package main

import (
	"context"

	"github.com/go-actions/actions"
)

// screenPop replaces AcceptTask with its own logic, which then runs the
// original: Flex's fourth example. Here the logic opens the customer's CRM
// record, so it is on screen when the conversation starts. An aborted
// AcceptTask never reaches it.
func screenPop() plugin {
	return plugin{name: "screen-pop", init: func(a *app, p *actions.Plugin, log logf) {
		a.acceptTask.In(p).Replace(func(ctx context.Context, t *Task, original func(context.Context, *Task) (Status, error)) (Status, error) {
			log(ctx, "opening %s's CRM record, then the original AcceptTask", t.Customer)
			a.world.Note("screen pop " + t.Customer)
			return original(ctx, t)
		})
	}}
}
