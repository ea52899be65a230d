package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionstest"
)

func TestRun(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	assert.Equal(t, wantTrace, buf.String())
}

// newTestApp is newApp with a test's registry (actionstest.New): when the
// test ends, it fails if an invocation is still in flight, or if an error
// reached the error handler that the test did not allow. The app's own
// error handler still prints to the trace; the recorder
// (actionstest.Record(a.reg)) still sees the after-listeners' failures.
func newTestApp(t *testing.T, out *bytes.Buffer) *app {
	t.Helper()
	a, err := newApp(out, func(opts ...actions.Option) *actions.Registry { return actionstest.New(t, opts...) })
	require.NoError(t, err)
	return a
}

// testApp is the app of run, with every plugin installed, a prompt that
// gives answers (in order), and a CRM served by crm.
func testApp(t *testing.T, crm http.Handler, answers ...bool) (*app, *bytes.Buffer) {
	t.Helper()
	srv := httptest.NewServer(crm)
	t.Cleanup(srv.Close)
	var buf bytes.Buffer
	a := newTestApp(t, &buf)
	require.NoError(t, a.install(demoPlugins(srv, scripted(answers...))...))
	return a, &buf
}

// A listener on a misspelt event is accepted when it is added, since its
// action may be registered later, and would never run; the check that
// follows the plugins' installation fails the startup with an error that
// suggests the action meant (the actions package docs, "Introspection").
func TestInstall_checkFailsStartupOnMisspeltAction(t *testing.T) {
	srv := httptest.NewServer(&CRM{})
	t.Cleanup(srv.Close)
	var buf bytes.Buffer
	a := newTestApp(t, &buf)
	misspelt := plugin{name: "audit", init: func(_ *app, p *actions.Plugin, _ logf) {
		p.AddListener("afterCompleteTsk", func(context.Context, any) error { return nil }, actions.Named("audit"))
	}}

	err := a.install(append(demoPlugins(srv, scripted()), misspelt)...)

	require.Error(t, err)
	assert.EqualError(t, err, `actions: afterCompleteTsk: listener "audit" on no action CompleteTsk; did you mean CompleteTask?`)
	assert.ErrorIs(t, err, actions.ErrActionNotFound)
	var oe *actions.OrphanError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "CompleteTask", oe.Suggestion)
	assert.NotContains(t, buf.String(), "check:", "no claim that the check passed")
}

// index returns the position of event in the world's events, -1 if absent.
func index(a *app, event string) int { return slices.Index(a.world.Events(), event) }

// Use cases 1 to 4: what accepting a task runs, and what an abort skips.
func TestAcceptTask(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		channel Channel
		answer  bool
		// wants
		status  Status
		aborted bool
		voice   bool // voice-detector logged the call
	}{
		{name: "Aborting_and_errors_chat_confirmed", channel: Chat, answer: true, status: Assigned},
		{name: "Aborting_and_errors_voice_confirmed", channel: Voice, answer: true, status: Assigned, voice: true},
		{name: "Aborting_and_errors_chat_declined_aborts", channel: Chat, answer: false, status: Reserved, aborted: true},
		{name: "Aborting_and_errors_voice_declined_aborts_after_detection", channel: Voice, answer: false, status: Reserved, aborted: true, voice: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, trace := testApp(t, &CRM{}, tt.answer)
			task := a.world.Offer("WT001", tt.channel, "Ada", "hello")

			status, err := a.acceptTask.Call(ctx, task)

			assert.Equal(t, tt.status, a.world.Status(task))
			assert.Equal(t, tt.voice, bytes.Contains(trace.Bytes(), []byte("[voice-detector] incoming voice call from Ada on WT001")), "voice detection")
			accepted := bytes.Contains(trace.Bytes(), []byte("[accept-notifier] WT001 accepted"))
			popped := index(a, "screen pop Ada")
			if !tt.aborted {
				actionstest.Record(a.reg).AssertInvocations(t, "AcceptTask ok")
				assert.Equal(t, Assigned, status)
				assert.True(t, accepted, "afterAcceptTask ran")
				// Use case 4: the replacement's own logic, then the original.
				require.NotEqual(t, -1, popped, "screen pop")
				assert.Less(t, popped, index(a, "WT001 reserved -> assigned"))
				return
			}
			actionstest.Record(a.reg).AssertInvocations(t, "AcceptTask aborted")
			assert.ErrorIs(t, err, ErrDeclined, "the reason is reachable")
			var e *actions.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "confirm-accept", e.Listener)
			assert.Equal(t, "AcceptTask", e.Action)
			assert.Equal(t, actions.StageBefore, e.Stage)
			assert.False(t, accepted, "afterAcceptTask skipped")
			assert.Equal(t, -1, popped, "replacement skipped")
		})
	}
}

// A prompt that fails is not an answer: AcceptTask fails, it is not aborted
// (the actions package docs, "Aborting and errors").
func TestAcceptTask_promptErrorFails(t *testing.T) {
	a, _ := testApp(t, &CRM{}) // no scripted answers: the prompt fails
	task := a.world.Offer("WT001", Chat, "Ada", "hello")

	_, _ = a.acceptTask.Call(context.Background(), task)

	actionstest.Record(a.reg).AssertInvocations(t, "AcceptTask failed")
	assert.Equal(t, Reserved, a.world.Status(task))
}

// Use case 6: a chat is said goodbye to, through a SendMessage nested in
// WrapupTask, before its original wrap-up; a call is not.
func TestWrapupTask(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		channel Channel
		want    []string // the invocations
	}{
		{name: "Lifecycle_chat_sends_closing_message_before_original", channel: Chat,
			want: []string{"AcceptTask ok", "WrapupTask ok", "  SendMessage ok"}},
		{name: "Replacing_voice_goes_straight_to_original", channel: Voice,
			want: []string{"AcceptTask ok", "WrapupTask ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := testApp(t, &CRM{}, true)
			task := a.world.Offer("WT001", tt.channel, "Ada", "hello")
			_, err := a.acceptTask.Call(ctx, task)
			require.NoError(t, err)

			status, err := a.wrapupTask.Call(ctx, task)

			require.NoError(t, err)
			assert.Equal(t, Wrapping, status)
			actionstest.Record(a.reg).AssertInvocations(t, tt.want...)
			wrapped := index(a, "WT001 assigned -> wrapping")
			require.NotEqual(t, -1, wrapped, "the original WrapupTask ran")
			if tt.channel != Chat {
				return
			}
			goodbye := index(a, task.Conversation+" agent: "+ClosingMessage)
			require.NotEqual(t, -1, goodbye, "closing message sent")
			assert.Less(t, goodbye, wrapped, "closing message before the original wrap-up")
		})
	}
}

// Use case 5: completing a task makes MyAction's HTTP request; its failure
// goes to the error handler and does not undo the completion.
func TestCompleteTask_MyAction(t *testing.T) {
	ctx := context.Background()
	complete := func(t *testing.T, crm http.Handler) (*actionstest.Recorder, *bytes.Buffer) {
		a, trace := testApp(t, crm, true)
		task := a.world.Offer("WT001", Chat, "Ada", "hello")
		for _, h := range []actions.Action[*Task, Status]{a.acceptTask, a.wrapupTask, a.completeTask} {
			_, err := h.Call(ctx, task)
			require.NoError(t, err)
		}
		require.Equal(t, Completed, a.world.Status(task))
		return actionstest.Record(a.reg), trace
	}

	t.Run("Lifecycle_request_reaches_server", func(t *testing.T) {
		crm := &CRM{}
		rec, trace := complete(t, crm)
		rec.AssertInvocations(t, "AcceptTask ok", "WrapupTask ok", "  SendMessage ok", "CompleteTask ok", "  MyAction ok")
		assert.Equal(t, []Interaction{{Task: "WT001", Channel: Chat, Customer: "Ada"}}, crm.Received())
		assert.Contains(t, trace.String(), "[crm-sync] the CRM logged WT001 as INT-1")
	})
	t.Run("Aborting_and_errors_server_error_goes_to_error_handler", func(t *testing.T) {
		down := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		})
		rec, trace := complete(t, down)
		rec.AllowHandledErrors()
		rec.AssertInvocations(t, "AcceptTask ok", "WrapupTask ok", "  SendMessage ok", "CompleteTask ok", "  MyAction failed")
		require.Len(t, rec.HandledErrors(), 1)
		assert.EqualError(t, rec.HandledErrors()[0], `actions: CompleteTask: after-listener "crm-sync" failed (plugin "crm-sync"): MyAction: action failed in body: crm: 503 Service Unavailable`)
		// The app's error handler prints its line inside the invocation
		// whose context it received: indented as CompleteTask's stages,
		// before its end.
		assert.Contains(t, trace.String(), `  < MyAction failed
  ! actions: CompleteTask: after-listener "crm-sync" failed (plugin "crm-sync"): MyAction: action failed in body: crm: 503 Service Unavailable
< CompleteTask ok: completed
`)
	})
}

// Typed handles and Flex-style names reach the same action; a payload of the
// wrong type through the untyped API is an error, not a panic (see
// actions.Typed and actions.Action).
func TestInterop(t *testing.T) {
	ctx := context.Background()
	a, trace := testApp(t, &CRM{}, true)
	task := a.world.Offer("WT001", Chat, "Ada", "hello")

	_, err := a.reg.Call(ctx, "AcceptTask", "WT001")
	var pe *actions.PayloadTypeError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, actions.ErrPayloadType)
	assert.NotContains(t, trace.String(), "[confirm-accept]", "no listener ran")

	_, err = a.reg.Call(ctx, "AcceptTask", (*Task)(nil))
	assert.ErrorIs(t, err, errNoTask, "the payload update rejects a nil task")

	res, err := a.reg.Call(ctx, "AcceptTask", task)
	require.NoError(t, err)
	assert.Equal(t, Assigned, res, "a typed body's result through the untyped API")
	assert.Contains(t, trace.String(), "[screen-pop]", "the typed replacement ran")
	actionstest.Record(a.reg).AssertInvocations(t, "AcceptTask rejected", "AcceptTask failed", "AcceptTask ok")
}

// actionInfo returns what the registry holds under name.
func actionInfo(t *testing.T, reg *actions.Registry, name string) actions.ActionInfo {
	t.Helper()
	for _, info := range reg.Actions() {
		if info.Name == name {
			return info
		}
	}
	require.Failf(t, "nothing under the name", "%q", name)
	return actions.ActionInfo{}
}

// Each plugin is one actions.Plugin: the registry tells which plugin made
// each registration (the actions package docs, "Introspection").
func TestPluginsOwnTheirRegistrations(t *testing.T) {
	a, _ := testApp(t, &CRM{})

	assert.Equal(t, []string{"accept-notifier", "chat-goodbye", "confirm-accept", "crm-sync", "screen-pop", "voice-detector"}, a.reg.Plugins())
	accept := actionInfo(t, a.reg, "AcceptTask")
	assert.Empty(t, accept.Plugin, "AcceptTask is the app's own")
	assert.Equal(t, []string{"accept-notifier", "confirm-accept", "screen-pop", "voice-detector"}, accept.Plugins)
	var owners []string
	for _, l := range accept.Before {
		owners = append(owners, l.Name+"@"+l.Plugin)
	}
	assert.Equal(t, []string{"voice-detector@voice-detector", "confirm-accept@confirm-accept"}, owners)
	my := actionInfo(t, a.reg, "MyAction")
	assert.Equal(t, "crm-sync", my.Plugin, "crm-sync registered MyAction")
	assert.Equal(t, []string{"crm-sync"}, my.Plugins)
}

// Unloading a plugin removes all of its registrations at once: crm-sync's
// action and its listener on another action.
func TestUnloadRemovesThePluginAsAUnit(t *testing.T) {
	ctx := context.Background()
	crm := &CRM{}
	a, trace := testApp(t, crm, true)

	require.True(t, a.unload("crm-sync"))

	assert.False(t, a.unload("crm-sync"), "already unloaded")
	assert.NotContains(t, a.reg.Plugins(), "crm-sync")
	_, err := a.reg.Call(ctx, "MyAction", Interaction{Task: "WT009"})
	assert.ErrorIs(t, err, actions.ErrActionNotFound, "its action went with it")
	assert.NotContains(t, actionInfo(t, a.reg, "CompleteTask").Plugins, "crm-sync")
	require.NoError(t, a.reg.Check(), "no listener of crm-sync is left behind")
	task := a.world.Offer("WT001", Voice, "Grace", "")
	for _, h := range []actions.Action[*Task, Status]{a.acceptTask, a.wrapupTask, a.completeTask} {
		_, err := h.Call(ctx, task)
		require.NoError(t, err)
	}
	assert.Empty(t, crm.Received(), "and so did its listener")
	assert.NotContains(t, trace.String(), "[crm-sync]")
	actionstest.Record(a.reg).AssertInvocations(t, "MyAction rejected", "AcceptTask ok", "WrapupTask ok", "CompleteTask ok")
}

// While maintenance is installed, its block refuses every AcceptTask with
// its reason, and the error names the plugin; nothing of AcceptTask runs.
// Unloaded, it leaves nothing behind.
func TestMaintenanceBlocksWithAReason(t *testing.T) {
	ctx := context.Background()
	a, trace := testApp(t, &CRM{}, true) // one answer, for the accept after maintenance
	task := a.world.Offer("WT001", Voice, "Grace", "")
	require.NoError(t, a.load(maintenance()))
	assert.Contains(t, actionInfo(t, a.reg, "AcceptTask").Plugins, "maintenance")

	_, err := a.acceptTask.Call(ctx, task)

	assert.EqualError(t, err, `actions: AcceptTask: action blocked (plugin "maintenance"): the CRM is down for maintenance until 02:00`)
	assert.ErrorIs(t, err, actions.ErrBlocked)
	assert.ErrorIs(t, err, ErrMaintenance, "the block's reason is reachable")
	var e *actions.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "maintenance", e.Plugin)
	assert.Equal(t, Reserved, a.world.Status(task))
	assert.NotContains(t, trace.String(), "[voice-detector]", "no listener ran")

	require.True(t, a.unload("maintenance"))
	assert.NotContains(t, a.reg.Plugins(), "maintenance")
	assert.Zero(t, actionInfo(t, a.reg, "AcceptTask").Blocks)
	_, err = a.acceptTask.Call(ctx, task)
	require.NoError(t, err)
	assert.Equal(t, Assigned, a.world.Status(task))
	actionstest.Record(a.reg).AssertInvocations(t, "AcceptTask rejected", "AcceptTask ok")
}

// Loading chat-goodbye v2 replaces the first version in one step: one
// plugin of that name, one replacement on WrapupTask, v1's unload no longer
// removes anything, and only v2 runs.
func TestReloadReplacesThePlugin(t *testing.T) {
	ctx := context.Background()
	a, trace := testApp(t, &CRM{}, true)
	v1 := a.plugins["chat-goodbye"]

	require.NoError(t, a.load(chatGoodbyeV2()))

	assert.Equal(t, "chat-goodbye v2", a.plugins["chat-goodbye"].label)
	assert.Equal(t, 1, strings.Count(strings.Join(a.reg.Plugins(), " "), "chat-goodbye"))
	wrapup := actionInfo(t, a.reg, "WrapupTask")
	assert.Equal(t, 1, wrapup.Replacements, "v2's replacement instead of v1's, not on top of it")
	assert.Equal(t, []string{"chat-goodbye"}, wrapup.Plugins)
	assert.False(t, v1.unload(), "v1 is no longer installed")
	require.Equal(t, 1, actionInfo(t, a.reg, "WrapupTask").Replacements, "v1's unload left v2 in place")

	task := a.world.Offer("WT001", Chat, "Ada", "hello")
	for _, h := range []actions.Action[*Task, Status]{a.acceptTask, a.wrapupTask} {
		_, err := h.Call(ctx, task)
		require.NoError(t, err)
	}
	var bodies []string
	for _, m := range a.world.Messages(task.Conversation) {
		bodies = append(bodies, m.Body)
	}
	assert.Equal(t, []string{"hello", RatingMessage}, bodies, "v2's message, and v1's not")
	assert.Contains(t, trace.String(), "[chat-goodbye v2] saying goodbye on "+task.Conversation)
}

// A plugin whose registration conflicts with the registry is not installed
// at all, and the error names it.
func TestLoadConflictInstallsNothing(t *testing.T) {
	a, _ := testApp(t, &CRM{})
	rogue := plugin{name: "rogue", init: func(_ *app, p *actions.Plugin, _ logf) {
		p.AddListener("beforeWrapupTask", func(context.Context, any) error { return nil }, actions.Named("rogue"))
		p.RegisterAction("AcceptTask", func(context.Context, any) (any, error) { return nil, nil })
	}}

	err := a.load(rogue)

	require.ErrorIs(t, err, actions.ErrAlreadyRegistered)
	var e *actions.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "rogue", e.Plugin)
	assert.NotContains(t, a.reg.Plugins(), "rogue")
	assert.NotContains(t, a.plugins, "rogue")
	assert.Empty(t, a.reg.Listeners("beforeWrapupTask"), "not even its listener")
}

const wantTrace = `Tasks (WT001, ...) are chats or calls offered to an agent, who accepts, wraps up, completes.
Wrap-up: the work after the conversation. Screen pop: the customer's CRM record, on accept.
"> X" / "< X": invocation X begins / ends (the demo's own observer); nested ones indented.
"[name]": a plugin speaks; "body:": an action's own body.
aborted: a before-listener vetoed it; failed: a stage erred or panicked;
rejected: refused before any stage ran (unknown, blocked, pending, closed).

plugins: accept-notifier, confirm-accept, voice-detector, screen-pop, crm-sync, chat-goodbye
check: every listener, replacement and block has its action
beforeAcceptTask listeners, in order: voice-detector (priority 10), confirm-accept (priority 0)

# 1. Ada's chat WT001 is offered; the agent accepts it
> AcceptTask WT001 (chat from Ada)
  [confirm-accept] "Accept chat task WT001 from Ada?" yes
  [screen-pop] opening Ada's CRM record, then the original AcceptTask
  body: WT001 reserved -> assigned
  [accept-notifier] WT001 accepted; the agent now has 1 task(s)
< AcceptTask ok: assigned

# 2. Grace calls: WT002 rings; the agent declines at the prompt
> AcceptTask WT002 (voice from Grace)
  [voice-detector] incoming voice call from Grace on WT002
  [confirm-accept] "Accept voice task WT002 from Grace?" no: aborting
< AcceptTask aborted
error: actions: AcceptTask: action aborted in before phase by listener "confirm-accept" (plugin "confirm-accept"): agent declined the task WT002
why: listener "confirm-accept" aborted AcceptTask, reason "agent declined the task WT002" (errors.Is ErrDeclined: true)
WT002 is still reserved, and no screen pop opened: the abort skipped the replacement

# 3. Grace calls again; this time the agent accepts
> AcceptTask WT002 (voice from Grace)
  [voice-detector] incoming voice call from Grace on WT002
  [confirm-accept] "Accept voice task WT002 from Grace?" yes
  [screen-pop] opening Grace's CRM record, then the original AcceptTask
  body: WT002 reserved -> assigned
  [accept-notifier] WT002 accepted; the agent now has 2 task(s)
< AcceptTask ok: assigned

# 4. The agent answers Ada
> SendMessage to CH001
  body: CH001 agent: "Sorry about that: it is on its way."
< SendMessage ok: IM002

# 5. Both conversations are over: the agent wraps up
> WrapupTask WT001 (chat from Ada)
  [chat-goodbye] saying goodbye on CH001 before the original WrapupTask
  > SendMessage to CH001
    body: CH001 agent: "Thanks for chatting. Your session is now closed."
  < SendMessage ok: IM003
  body: WT001 assigned -> wrapping
< WrapupTask ok: wrapping
> WrapupTask WT002 (voice from Grace)
  [chat-goodbye] WT002 is not a chat: straight to the original WrapupTask
  body: WT002 assigned -> wrapping
< WrapupTask ok: wrapping

# 6. The agent completes both tasks
> CompleteTask WT001 (chat from Ada)
  body: WT001 wrapping -> completed
  [crm-sync] WT001 is complete: logging it in the CRM
  > MyAction for WT001
    [crm-sync] POST /interactions: created INT-1
  < MyAction ok: INT-1
  [crm-sync] the CRM logged WT001 as INT-1
< CompleteTask ok: completed
> CompleteTask WT002 (voice from Grace)
  body: WT002 wrapping -> completed
  [crm-sync] WT002 is complete: logging it in the CRM
  > MyAction for WT002
    [crm-sync] POST /interactions: created INT-2
  < MyAction ok: INT-2
  [crm-sync] the CRM logged WT002 as INT-2
< CompleteTask ok: completed

# 7. A second click on Complete for WT001
> CompleteTask WT001 (chat from Ada)
< CompleteTask failed
error: actions: CompleteTask: action failed in body: task WT001 is completed, want wrapping
why: CompleteTask failed in its body: WT001 is already completed (errors.Is ErrFailed: true)

# 8. The CRM goes down: a maintenance plugin holds new tasks back, then is unloaded
installed maintenance; plugins now: accept-notifier, chat-goodbye, confirm-accept, crm-sync, maintenance, screen-pop, voice-detector
> AcceptTask WT003 (chat from Linus)
< AcceptTask rejected
error: actions: AcceptTask: action blocked (plugin "maintenance"): the CRM is down for maintenance until 02:00
why: plugin "maintenance" blocked AcceptTask, reason "the CRM is down for maintenance until 02:00" (errors.Is ErrMaintenance: true)
unloaded maintenance, and its block with it; 6 plugins now
> AcceptTask WT003 (chat from Linus)
  [confirm-accept] "Accept chat task WT003 from Linus?" yes
  [screen-pop] opening Linus's CRM record, then the original AcceptTask
  body: WT003 reserved -> assigned
  [accept-notifier] WT003 accepted; the agent now has 1 task(s)
< AcceptTask ok: assigned

# 9. chat-goodbye v2 is loaded under the same name: it replaces the first version in one step
chat-goodbye v2 installed in place of chat-goodbye; still 6 plugins
> WrapupTask WT003 (chat from Linus)
  [chat-goodbye v2] saying goodbye on CH002 before the original WrapupTask
  > SendMessage to CH002
    body: CH002 agent: "Thanks for chatting! How did we do? Reply 1 to 5."
  < SendMessage ok: IM005
  body: WT003 assigned -> wrapping
< WrapupTask ok: wrapping

# 10. The shift ends: the registry closes
> AcceptTask WT001 (chat from Ada)
< AcceptTask rejected
error: actions: AcceptTask: registry closed
why: the registry is closed, nothing more can be invoked

# Summary
WT001 (chat from Ada): completed
WT002 (voice from Grace): completed
WT003 (chat from Linus): wrapping
conversation CH001:
  IM001 Ada: Hi, my parcel has not arrived.
  IM002 agent: Sorry about that: it is on its way.
  IM003 agent: Thanks for chatting. Your session is now closed.
conversation CH002:
  IM004 Linus: My invoice is wrong.
  IM005 agent: Thanks for chatting! How did we do? Reply 1 to 5.
CRM interactions:
  INT-1: WT001 chat from Ada
  INT-2: WT002 voice from Grace
`
