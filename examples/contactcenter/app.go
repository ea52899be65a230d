package main

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/go-actions/actions"
)

// app is the contact-centre UI: its world, the actions it ships with, and
// the plugins that extend them.
//
// The actions are registered through typed handles; plugins may use either
// the handles (through their plugin: a.acceptTask.In(p)) or the Flex-style
// names ("AcceptTask", "beforeAcceptTask"): both reach the same action,
// listeners and replacements.
type app struct {
	reg   *actions.Registry
	world *World
	trace *tracer

	acceptTask   actions.Action[*Task, Status]
	wrapupTask   actions.Action[*Task, Status]
	completeTask actions.Action[*Task, Status]
	sendMessage  actions.Action[*Message, string]

	// plugins is the installed plugins by name, with what removes each.
	// Only the goroutine that runs the app loads and unloads them.
	plugins map[string]loaded
}

// newApp returns an app that prints its trace to out, with the built-in
// actions registered and no plugin installed. newRegistry makes its
// registry with the app's options: actions.New, or in a test
// actionstest.New, which adds the test's checks.
func newApp(out io.Writer, newRegistry func(...actions.Option) *actions.Registry) (*app, error) {
	t := &tracer{w: out}
	reg := newRegistry(
		actions.WithObserver(traceObserver{t}),
		// After-listener errors do not change an invocation's outcome; show
		// them in the trace instead of the default log, inside the
		// invocation whose context the handler receives.
		actions.WithErrorHandler(func(ctx context.Context, err error) { t.printf(ctx, "! %v", err) }),
	)
	a := &app{
		reg:          reg,
		world:        NewWorld(),
		trace:        t,
		acceptTask:   actions.Typed[*Task, Status](reg, "AcceptTask"),
		wrapupTask:   actions.Typed[*Task, Status](reg, "WrapupTask"),
		completeTask: actions.Typed[*Task, Status](reg, "CompleteTask"),
		sendMessage:  actions.Typed[*Message, string](reg, "SendMessage"),
		plugins:      make(map[string]loaded),
	}
	return a, a.registerBuiltins()
}

// registerBuiltins registers the actions a contact-centre UI ships with.
// Their bodies only move tasks through their statuses and send messages:
// everything else is the plugins' business.
func (a *app) registerBuiltins() error {
	move := func(h actions.Action[*Task, Status], from, to Status) error {
		_, err := h.Register(func(ctx context.Context, t *Task) (Status, error) {
			if err := a.world.Move(t, from, to); err != nil {
				return "", err
			}
			a.trace.printf(ctx, "body: %s %s -> %s", t.SID, from, to)
			return to, nil
		}, actions.UpdatePayloadOf(requireTask))
		return err
	}
	_, errSend := a.sendMessage.Register(func(ctx context.Context, m *Message) (string, error) {
		sid, err := a.world.Send(*m)
		if err != nil {
			return "", err
		}
		a.trace.printf(ctx, "body: %s %s: %q", m.Conversation, m.Author, m.Body)
		return sid, nil
	})
	return errors.Join(
		move(a.acceptTask, Reserved, Assigned),
		move(a.wrapupTask, Assigned, Wrapping),
		move(a.completeTask, Wrapping, Completed),
		errSend,
	)
}

// errNoTask fails a task action invoked with a nil task.
var errNoTask = errors.New("no task")

// requireTask is the payload update of the task actions. The typed check lets
// a nil *Task through, as a pointer's zero value; rejecting it here, before
// any listener runs, lets every listener rely on a task.
func requireTask(_ context.Context, t *Task) (*Task, error) {
	if t == nil {
		return nil, errNoTask
	}
	return t, nil
}

// logf prints a line of a plugin's trace, inside the invocation of ctx.
type logf func(ctx context.Context, format string, args ...any)

// plugin extends the app through its actions, as a Flex plugin does in its
// init(flex, manager): it adds listeners, replaces actions and registers
// new ones. Its init makes those registrations through p, an
// [actions.Plugin] named after it, so that they are installed together and
// removed together (see [actions.Plugin]).
type plugin struct {
	name    string
	version string // "" for a plugin's first version
	init    func(a *app, p *actions.Plugin, log logf)
}

// label is how the trace names the plugin: its name, and its version if
// it has one.
func (pl plugin) label() string {
	if pl.version == "" {
		return pl.name
	}
	return pl.name + " " + pl.version
}

// loaded is a plugin as the app holds it once installed.
type loaded struct {
	label  string      // see plugin.label
	unload func() bool // removes all of the plugin's registrations at once
}

// load builds pl's registrations into a plugin of the registry and installs
// them in one step. A plugin of the same name that is installed is
// replaced in that same step: that is how a plugin is reloaded. Nothing is
// installed if a registration conflicts with what the registry holds.
func (a *app) load(pl plugin) error {
	p := a.reg.Plugin(pl.name)
	prefix := "[" + pl.label() + "] "
	pl.init(a, p, func(ctx context.Context, format string, args ...any) {
		a.trace.printf(ctx, prefix+format, args...)
	})
	unload, err := p.Install()
	if err != nil {
		return err
	}
	a.plugins[pl.name] = loaded{label: pl.label(), unload: unload}
	return nil
}

// unload removes the plugin named name, all of its registrations at once,
// and reports whether it was installed.
func (a *app) unload(name string) bool {
	l, ok := a.plugins[name]
	if !ok {
		return false
	}
	delete(a.plugins, name)
	return l.unload()
}

// install loads the plugins in order, then checks the registry: a listener,
// replacement or block under a name no action is registered with (a
// misspelt event, say) is accepted when it is added, since its action may
// come later, and would then never run. An orphan fails the app's startup
// with the [actions.Registry.Check] error, which suggests the nearest action
// (see "Introspection" in the package documentation).
func (a *app) install(plugins ...plugin) error {
	names := make([]string, len(plugins))
	for i, pl := range plugins {
		if err := a.load(pl); err != nil {
			return err
		}
		names[i] = pl.label()
	}
	a.trace.line(0, "plugins: %s", strings.Join(names, ", "))
	if err := a.reg.Check(); err != nil {
		return err
	}
	a.trace.line(0, "check: every listener, replacement and block has its action")
	return nil
}
