package main

import (
	"context"

	"github.com/go-actions/actions"
)

// acceptNotifier does something once a task is accepted: Flex's first
// example, an afterAcceptTask listener. It uses the Flex-style event name, so
// its payload arrives untyped.
func acceptNotifier() plugin {
	return plugin{name: "accept-notifier", init: func(a *app, p *actions.Plugin, log logf) {
		p.AddListener("afterAcceptTask", func(ctx context.Context, payload any) error {
			t := payload.(*Task) // AcceptTask's type check and payload update guarantee a task
			log(ctx, "%s accepted; the agent now has %d task(s)", t.SID, a.world.Assigned())
			return nil
		}, actions.Named("accept-notifier"))
	}}
}
