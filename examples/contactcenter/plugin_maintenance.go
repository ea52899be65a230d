package main

import (
	"errors"

	"github.com/go-actions/actions"
)

// ErrMaintenance is the reason the maintenance plugin gives for the tasks it
// holds back.
var ErrMaintenance = errors.New("the CRM is down for maintenance until 02:00")

// maintenance holds new tasks back while the CRM is down, since their screen
// pop could not open: it blocks AcceptTask, with ErrMaintenance as the
// block's reason, so that the agent is told why. It is installed for the
// maintenance window and unloaded after it; its block comes and goes with
// it. It is not one of Flex's examples.
func maintenance() plugin {
	return plugin{name: "maintenance", init: func(_ *app, p *actions.Plugin, _ logf) {
		p.BlockAction("AcceptTask", nil, actions.Reason(ErrMaintenance)) // nil: every task
	}}
}
