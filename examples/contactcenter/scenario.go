package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-actions/actions"
)

// scenario is the agent's shift: two tasks offered, accepted (one of them
// declined first), wrapped up and completed, a mistaken second completion, a
// maintenance window during which a plugin holds new tasks back, a new
// version of a plugin loaded over the old one, and the shutdown. Each step
// invokes the actions as the UI would, through Flex-style names or typed
// handles alike, and checks the outcome it expects.
func (a *app) scenario(ctx context.Context, crm *CRM) error {
	out := a.trace
	out.line(0, "beforeAcceptTask listeners, in order: %s", describeListeners(a.reg.Listeners("beforeAcceptTask")))

	chat := a.world.Offer("WT001", Chat, "Ada", "Hi, my parcel has not arrived.")
	voice := a.world.Offer("WT002", Voice, "Grace", "")

	a.step("1. Ada's chat WT001 is offered; the agent accepts it")
	// Flex style: invoke by name and wait for the future, as for
	// Actions.invokeAction("AcceptTask", payload).
	if _, err := a.reg.InvokeAction(ctx, "AcceptTask", chat).Wait(ctx); err != nil {
		return err
	}

	a.step("2. Grace calls: WT002 rings; the agent declines at the prompt")
	_, err := a.reg.InvokeAction(ctx, "AcceptTask", voice).Wait(ctx)
	if !errors.Is(err, ErrDeclined) {
		return fmt.Errorf("declining %s: got error %v, want %v", voice.SID, err, ErrDeclined)
	}
	a.explain(err)
	if slices.Contains(a.world.Events(), "screen pop "+voice.Customer) {
		return fmt.Errorf("declining %s: the replacement of AcceptTask ran", voice.SID)
	}
	out.line(0, "%s is still %s, and no screen pop opened: the abort skipped the replacement", voice.SID, a.world.Status(voice))

	a.step("3. Grace calls again; this time the agent accepts")
	// Typed: the payload is a *Task and the result a Status, checked by
	// the compiler.
	if _, err := a.acceptTask.Call(ctx, voice); err != nil {
		return err
	}

	a.step("4. The agent answers Ada")
	if _, err := a.reg.Call(ctx, "SendMessage", &Message{Conversation: chat.Conversation, Author: "agent", Body: "Sorry about that: it is on its way."}); err != nil {
		return err
	}

	a.step("5. Both conversations are over: the agent wraps up")
	for _, t := range []*Task{chat, voice} {
		if _, err := a.wrapupTask.Call(ctx, t); err != nil {
			return err
		}
	}

	a.step("6. The agent completes both tasks")
	for _, t := range []*Task{chat, voice} {
		if _, err := a.completeTask.Call(ctx, t); err != nil {
			return err
		}
	}

	a.step("7. A second click on Complete for WT001")
	_, err = a.completeTask.Call(ctx, chat)
	var te *TransitionError
	if !errors.As(err, &te) {
		return fmt.Errorf("completing %s twice: got error %v, want a *TransitionError", chat.SID, err)
	}
	a.explain(err)

	a.step("8. The CRM goes down: a maintenance plugin holds new tasks back, then is unloaded")
	ticket := a.world.Offer("WT003", Chat, "Linus", "My invoice is wrong.")
	if err := a.load(maintenance()); err != nil {
		return err
	}
	out.line(0, "installed maintenance; plugins now: %s", strings.Join(a.reg.Plugins(), ", "))
	_, err = a.acceptTask.Call(ctx, ticket)
	if !errors.Is(err, ErrMaintenance) {
		return fmt.Errorf("accepting %s during maintenance: got error %v, want %v", ticket.SID, err, ErrMaintenance)
	}
	a.explain(err)
	if !a.unload("maintenance") {
		return errors.New("unloading maintenance: it was not installed")
	}
	out.line(0, "unloaded maintenance, and its block with it; %d plugins now", len(a.reg.Plugins()))
	if _, err := a.acceptTask.Call(ctx, ticket); err != nil {
		return err
	}

	a.step("9. chat-goodbye v2 is loaded under the same name: it replaces the first version in one step")
	old := a.plugins["chat-goodbye"].label
	if err := a.load(chatGoodbyeV2()); err != nil {
		return err
	}
	out.line(0, "%s installed in place of %s; still %d plugins", a.plugins["chat-goodbye"].label, old, len(a.reg.Plugins()))
	if _, err := a.wrapupTask.Call(ctx, ticket); err != nil {
		return err
	}

	a.step("10. The shift ends: the registry closes")
	if err := a.reg.Close(ctx); err != nil {
		return err
	}
	_, err = a.acceptTask.Call(ctx, chat)
	if !errors.Is(err, actions.ErrClosed) {
		return fmt.Errorf("accepting after Close: got error %v, want %v", err, actions.ErrClosed)
	}
	a.explain(err)

	a.step("Summary")
	for _, t := range a.world.Tasks() {
		out.line(0, "%v: %s", t, a.world.Status(t))
	}
	for _, t := range []*Task{chat, ticket} {
		out.line(0, "conversation %s:", t.Conversation)
		for _, m := range a.world.Messages(t.Conversation) {
			out.line(1, "%s %s: %s", m.SID, m.Author, m.Body)
		}
	}
	out.line(0, "CRM interactions:")
	for i, in := range crm.Received() {
		out.line(1, "INT-%d: %s %s from %s", i+1, in.Task, in.Channel, in.Customer)
	}
	return nil
}

// step prints the heading of a step of the scenario.
func (a *app) step(title string) {
	a.trace.line(0, "")
	a.trace.line(0, "# %s", title)
}

// explain prints an invocation's error and why it happened, found with
// errors.Is and errors.As as a UI would.
func (a *app) explain(err error) {
	a.trace.line(0, "error: %v", err)
	var (
		e  *actions.Error
		te *TransitionError
	)
	if !errors.As(err, &e) {
		return
	}
	switch actions.StatusOf(err) {
	case actions.StatusAborted:
		a.trace.line(0, "why: listener %q aborted %s, reason %q (errors.Is ErrDeclined: %t)",
			e.Listener, e.Action, e.Err, errors.Is(err, ErrDeclined))
	case actions.StatusFailed:
		if errors.As(err, &te) {
			a.trace.line(0, "why: %s failed in its %s: %s is already %s (errors.Is ErrFailed: %t)",
				e.Action, e.Stage, te.Task, te.Got, errors.Is(err, actions.ErrFailed))
		}
	case actions.StatusRejected:
		switch {
		case errors.Is(err, actions.ErrBlocked):
			a.trace.line(0, "why: plugin %q blocked %s, reason %q (errors.Is ErrMaintenance: %t)",
				e.Plugin, e.Action, e.Err, errors.Is(err, ErrMaintenance))
		case errors.Is(err, actions.ErrClosed):
			a.trace.line(0, "why: the registry is closed, nothing more can be invoked")
		}
	}
}

// describeListeners lists listeners with their priorities, in running order.
func describeListeners(ls []actions.ListenerInfo) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s (priority %d)", l.Name, l.Priority)
	}
	return strings.Join(parts, ", ")
}
