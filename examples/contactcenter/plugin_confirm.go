package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-actions/actions"
)

// ErrDeclined is the reason AcceptTask is aborted when the agent answers no.
var ErrDeclined = errors.New("agent declined the task")

// Prompt asks the agent a yes-or-no question, as window.confirm does in
// Flex's example. It is injected so that the program runs unattended and a
// test can answer either way. An error (the agent closed the dialog, say)
// fails the invocation rather than aborting it.
type Prompt func(ctx context.Context, question string) (bool, error)

// confirmAccept asks the agent to confirm before a task is accepted and
// aborts AcceptTask if they decline: Flex's second example, the seed of the
// whole framework.
func confirmAccept(prompt Prompt) plugin {
	return plugin{name: "confirm-accept", init: func(a *app, p *actions.Plugin, log logf) {
		a.acceptTask.In(p).Before(func(ctx context.Context, t *Task) error {
			q := fmt.Sprintf("Accept %s task %s from %s?", t.Channel, t.SID, t.Customer)
			ok, err := prompt(ctx, q)
			if err != nil {
				return err
			}
			if !ok {
				log(ctx, "%q no: aborting", q)
				return actions.Abort(fmt.Errorf("%w %s", ErrDeclined, t.SID))
			}
			log(ctx, "%q yes", q)
			return nil
		}, actions.Named("confirm-accept"))
	}}
}
