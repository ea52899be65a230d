package main

import (
	"context"

	"github.com/go-actions/actions"
)

// voiceDetector notices an incoming voice call before it is accepted and
// logs it: Flex's third example. Its priority puts it ahead of
// confirm-accept, so that a call is logged even when the agent declines it.
func voiceDetector() plugin {
	return plugin{name: "voice-detector", init: func(_ *app, p *actions.Plugin, log logf) {
		p.AddListener("beforeAcceptTask", func(ctx context.Context, payload any) error {
			if t := payload.(*Task); t.Channel == Voice {
				log(ctx, "incoming voice call from %s on %s", t.Customer, t.SID)
			}
			return nil
		}, actions.Named("voice-detector"), actions.Priority(10))
	}}
}
