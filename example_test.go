package actions_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-actions/actions"
)

// Task is the payload of the typed examples: a pointer to it is shared by
// every stage of one invocation, as Flex shares its payload object.
type Task struct {
	SID     string
	Channel string
	Status  string
}

// must keeps the examples about the API rather than about error plumbing:
// registering a fresh name on a fresh registry cannot fail.
func must(unregister func() bool, err error) func() bool {
	if err != nil {
		panic(err)
	}
	return unregister
}

// echo is a body that returns a description of its payload.
func echo(verb string) actions.Body {
	return func(_ context.Context, payload any) (any, error) {
		return fmt.Sprint(verb, " ", payload), nil
	}
}

// The zero Registry is ready to use, with the defaults of New.
func ExampleRegistry() {
	var reg actions.Registry
	must(reg.RegisterAction("SendMessage", echo("sent")))
	fmt.Println(reg.Call(context.Background(), "SendMessage", "hello"))
	// Output:
	// sent hello <nil>
}

func ExampleNew() {
	var failures []string
	reg := actions.New(
		actions.WithMaxDepth(8),
		actions.WithErrorHandler(func(_ context.Context, err error) { failures = append(failures, err.Error()) }),
	)
	must(reg.RegisterAction("CompleteTask", echo("completed")))
	reg.AddListener("afterCompleteTask", func(context.Context, any) error {
		return errors.New("crm sync failed")
	})
	fmt.Println(reg.Call(context.Background(), "CompleteTask", "WT1"))
	fmt.Println(failures)
	// Output:
	// completed WT1 <nil>
	// [actions: CompleteTask: after-listener failed: crm sync failed]
}

// The package-level functions work on Default, like net/http's
// DefaultServeMux; libraries should take a *Registry instead.
func ExampleDefault() {
	unregister := must(actions.RegisterAction("SetAgentActivity", echo("activity")))
	defer unregister()
	fmt.Println(actions.Default().Registered("SetAgentActivity"))
	fmt.Println(actions.Default().Call(context.Background(), "SetAgentActivity", "Available"))
	// Output:
	// true
	// activity Available <nil>
}

func ExampleRegisterAction() {
	unregister, err := actions.RegisterAction("HoldCall", echo("held"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(actions.Call(context.Background(), "HoldCall", "CA1"))
	fmt.Println(unregister())
	// Output:
	// held CA1 <nil>
	// true
}

func ExampleInvokeAction() {
	defer must(actions.RegisterAction("UnholdCall", echo("resumed")))()
	ctx := context.Background()
	fmt.Println(actions.InvokeAction(ctx, "UnholdCall", "CA1").Wait(ctx))
	// Output:
	// resumed CA1 <nil>
}

func ExampleCall() {
	defer must(actions.RegisterAction("MuteCall", echo("muted")))()
	fmt.Println(actions.Call(context.Background(), "MuteCall", "CA1"))
	// Output:
	// muted CA1 <nil>
}

func ExampleAddListener() {
	defer must(actions.RegisterAction("KickParticipant", echo("kicked")))()
	remove := actions.AddListener("beforeKickParticipant", func(_ context.Context, who any) error {
		fmt.Println("before kicking", who)
		return nil
	})
	defer remove()
	fmt.Println(actions.Call(context.Background(), "KickParticipant", "supervisor"))
	// Output:
	// before kicking supervisor
	// kicked supervisor <nil>
}

func ExampleRemoveAllListeners() {
	defer must(actions.RegisterAction("StartOutboundCall", echo("dialling")))()
	for range 2 {
		actions.AddListener("afterStartOutboundCall", func(context.Context, any) error {
			fmt.Println("not called")
			return nil
		})
	}
	fmt.Println(actions.RemoveAllListeners("afterStartOutboundCall"))
	fmt.Println(actions.Call(context.Background(), "StartOutboundCall", "+15551234"))
	// Output:
	// 2
	// dialling +15551234 <nil>
}

func ExampleReplaceAction() {
	defer must(actions.RegisterAction("ToggleMute", echo("toggled")))()
	defer actions.ReplaceAction("ToggleMute", func(ctx context.Context, call any, original actions.Body) (any, error) {
		res, err := original(ctx, call)
		return fmt.Sprint(res, " (replaced)"), err
	})()
	fmt.Println(actions.Call(context.Background(), "ToggleMute", "CA1"))
	// Output:
	// toggled CA1 (replaced) <nil>
}

func ExampleBlockAction() {
	defer must(actions.RegisterAction("SetAgentStatus", echo("status")))()
	unblock := actions.BlockAction("SetAgentStatus", func(status any) bool { return status == "Offline" })
	defer unblock()
	ctx := context.Background()
	fmt.Println(actions.Call(ctx, "SetAgentStatus", "Break"))
	_, err := actions.Call(ctx, "SetAgentStatus", "Offline")
	fmt.Println(errors.Is(err, actions.ErrBlocked), err)
	// Output:
	// status Break <nil>
	// true actions: SetAgentStatus: action blocked
}

func ExampleRegistry_RegisterAction() {
	reg := actions.New()
	ctx := context.Background()
	// Listeners are kept by name: this one outlives the first registration.
	reg.AddListener("afterAcceptTask", func(_ context.Context, task any) error {
		fmt.Println("after", task)
		return nil
	})
	unregister := must(reg.RegisterAction("AcceptTask", echo("accepted")))

	_, err := reg.RegisterAction("AcceptTask", echo("clobbered"))
	fmt.Println(errors.Is(err, actions.ErrAlreadyRegistered), err)
	fmt.Println(reg.Call(ctx, "AcceptTask", "WT1"))

	fmt.Println(unregister(), unregister())
	_, err = reg.Call(ctx, "AcceptTask", "WT2")
	fmt.Println(errors.Is(err, actions.ErrActionNotFound))

	must(reg.RegisterAction("AcceptTask", echo("accepted again")))
	fmt.Println(reg.Call(ctx, "AcceptTask", "WT3"))
	// Output:
	// true actions: AcceptTask: action already registered
	// after WT1
	// accepted WT1 <nil>
	// true false
	// true
	// after WT3
	// accepted again WT3 <nil>
}

func ExampleRegistry_Registered() {
	reg := actions.New()
	fmt.Println(reg.Registered("WrapupTask"))
	unregister := must(reg.RegisterAction("WrapupTask", echo("wrapped up")))
	fmt.Println(reg.Registered("WrapupTask"))
	unregister()
	fmt.Println(reg.Registered("WrapupTask"))
	// Output:
	// false
	// true
	// false
}

// InvokeAction returns at once; each future is waited for in turn, so the
// results print in order although the invocations ran concurrently.
func ExampleRegistry_InvokeAction() {
	reg := actions.New()
	must(reg.RegisterAction("SendMessage", echo("sent")))
	ctx := context.Background()
	var futures []*actions.Future[any]
	for _, msg := range []string{"hello", "how can I help?"} {
		futures = append(futures, reg.InvokeAction(ctx, "SendMessage", msg))
	}
	for _, f := range futures {
		fmt.Println(f.Wait(ctx))
	}
	_, err := reg.InvokeAction(ctx, "SendMesage", "typo").Wait(ctx)
	fmt.Println(err)
	// Output:
	// sent hello <nil>
	// sent how can I help? <nil>
	// actions: SendMesage: action not found
}

// Call runs the same lifecycle as InvokeAction in the calling goroutine.
func ExampleRegistry_Call() {
	reg := actions.New()
	must(reg.RegisterAction("SendMessage", echo("sent")))
	reg.AddListener("beforeSendMessage", func(_ context.Context, msg any) error {
		if strings.TrimSpace(msg.(string)) == "" {
			return actions.Abort(errors.New("empty message"))
		}
		return nil
	})
	ctx := context.Background()
	fmt.Println(reg.Call(ctx, "SendMessage", "hello"))
	fmt.Println(reg.Call(ctx, "SendMessage", "  "))
	// Output:
	// sent hello <nil>
	// <nil> actions: SendMessage: action aborted in before phase: empty message
}

// An after-listener of CompleteTask invokes another action with the context
// it was given, so the invocation is nested in CompleteTask's; waiting for
// it delays CompleteTask's future until it is done.
func ExampleRegistry_AddListener() {
	reg := actions.New()
	must(reg.RegisterAction("CompleteTask", func(_ context.Context, payload any) (any, error) {
		task := payload.(*Task)
		task.Status = "completed"
		return task.SID, nil
	}))
	must(reg.RegisterAction("SendMessage", echo("sent")))
	reg.AddListener("beforeCompleteTask", func(_ context.Context, payload any) error {
		fmt.Println("before: status", payload.(*Task).Status)
		return nil
	})
	reg.AddListener("afterCompleteTask", func(ctx context.Context, payload any) error {
		task := payload.(*Task)
		fmt.Println("after: status", task.Status)
		res, err := reg.Call(ctx, "SendMessage", "survey for "+task.SID)
		fmt.Println("after:", res)
		return err
	})
	fmt.Println(reg.Call(context.Background(), "CompleteTask", &Task{SID: "WT1", Status: "wrapping"}))
	// Output:
	// before: status wrapping
	// after: status completed
	// after: sent survey for WT1
	// WT1 <nil>
}

func ExampleRegistry_RemoveAllListeners() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", echo("accepted")))
	reg.AddListener("beforeAcceptTask", func(context.Context, any) error {
		return actions.Abort(errors.New("agent busy"))
	})
	fmt.Println(reg.Call(context.Background(), "AcceptTask", "WT1"))
	fmt.Println(reg.RemoveAllListeners("beforeAcceptTask"))
	fmt.Println(reg.Call(context.Background(), "AcceptTask", "WT1"))
	// Output:
	// <nil> actions: AcceptTask: action aborted in before phase: agent busy
	// 1
	// accepted WT1 <nil>
}

// Listeners reports the order listeners run in: highest priority first, ties
// in the order they were added. Each listener's Source is the line that
// added it, "dir/file.go:line" (printed here without the directory).
func ExampleRegistry_Listeners() {
	reg := actions.New()
	noop := func(context.Context, any) error { return nil }
	reg.AddListener("beforeAcceptTask", noop, actions.Named("audit"))
	reg.AddListener("beforeAcceptTask", noop, actions.Named("confirm"), actions.Priority(10))
	reg.AddListener("beforeAcceptTask", noop, actions.Named("greet"), actions.Once())
	for _, l := range reg.Listeners("beforeAcceptTask") {
		fmt.Printf("%s priority=%d once=%v added at %s\n", l.Name, l.Priority, l.Once, path.Base(l.Source))
	}
	// Output:
	// confirm priority=10 once=false added at example_test.go:293
	// audit priority=0 once=false added at example_test.go:292
	// greet priority=0 once=true added at example_test.go:294
}

// Each replacement receives the layer below it as original. The WrapupTask
// replacement invokes SendMessage and then its original; removing a layer
// leaves the others working.
func ExampleRegistry_ReplaceAction() {
	reg := actions.New()
	ctx := context.Background()
	must(reg.RegisterAction("WrapupTask", echo("wrapped up")))
	must(reg.RegisterAction("SendMessage", echo("sent")))
	removeGoodbye := reg.ReplaceAction("WrapupTask", func(ctx context.Context, task any, original actions.Body) (any, error) {
		if _, err := reg.Call(ctx, "SendMessage", "goodbye"); err != nil {
			return nil, err
		}
		fmt.Println("goodbye sent")
		return original(ctx, task)
	})
	reg.ReplaceAction("WrapupTask", func(ctx context.Context, task any, original actions.Body) (any, error) {
		res, err := original(ctx, task)
		return fmt.Sprint(res, " (audited)"), err
	})
	fmt.Println(reg.Call(ctx, "WrapupTask", "WT1"))
	fmt.Println(removeGoodbye())
	fmt.Println(reg.Call(ctx, "WrapupTask", "WT2"))
	// Output:
	// goodbye sent
	// wrapped up WT1 (audited) <nil>
	// true
	// wrapped up WT2 (audited) <nil>
}

func ExampleRegistry_BlockAction() {
	reg := actions.New()
	ctx := context.Background()
	must(reg.RegisterAction("StartOutboundCall", echo("dialling")))
	unblock := reg.BlockAction("StartOutboundCall", func(number any) bool {
		return strings.HasPrefix(number.(string), "+1900")
	})
	fmt.Println(reg.Call(ctx, "StartOutboundCall", "+15551234"))
	_, err := reg.Call(ctx, "StartOutboundCall", "+19005551234")
	fmt.Println(err)
	fmt.Println(unblock())
	fmt.Println(reg.Call(ctx, "StartOutboundCall", "+19005551234"))

	// A nil match blocks every invocation.
	defer reg.BlockAction("StartOutboundCall", nil)()
	_, err = reg.Call(ctx, "StartOutboundCall", "+15551234")
	fmt.Println(errors.Is(err, actions.ErrBlocked))
	// Output:
	// dialling +15551234 <nil>
	// actions: StartOutboundCall: action blocked
	// true
	// dialling +19005551234 <nil>
	// true
}

// InFlight counts invocations from the start of their before phase until
// their future completes, as Flex UI does to disable a button meanwhile.
func ExampleRegistry_InFlight() {
	reg := actions.New()
	started, release := make(chan struct{}), make(chan struct{})
	must(reg.RegisterAction("AcceptTask", func(_ context.Context, task any) (any, error) {
		close(started)
		<-release
		return task, nil
	}))
	ctx := context.Background()
	f := reg.InvokeAction(ctx, "AcceptTask", "WT1")
	<-started
	fmt.Println("in flight:", reg.InFlight("AcceptTask"))
	close(release)
	fmt.Println(f.Wait(ctx))
	fmt.Println("in flight:", reg.InFlight("AcceptTask"))
	// Output:
	// in flight: 1
	// WT1 <nil>
	// in flight: 0
}

// Close refuses new invocations at once and waits for the accepted ones. A
// Close whose context is done gives up waiting, not the invocations.
func ExampleRegistry_Close() {
	reg := actions.New()
	started, release := make(chan struct{}), make(chan struct{})
	must(reg.RegisterAction("WrapupTask", func(_ context.Context, task any) (any, error) {
		close(started)
		<-release
		return fmt.Sprint("wrapped up ", task), nil
	}))
	f := reg.InvokeAction(context.Background(), "WrapupTask", "WT1")
	<-started

	deadline, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("shutdown deadline passed"))
	fmt.Println(reg.Close(deadline))
	_, err := reg.Call(context.Background(), "WrapupTask", "WT2")
	fmt.Println(err)

	close(release)
	fmt.Println(reg.Close(context.Background()))
	fmt.Println(f.Result())
	// Output:
	// shutdown deadline passed
	// actions: WrapupTask: registry closed
	// <nil>
	// wrapped up WT1 <nil>
}

// Giving up on waiting does not cancel the invocation: the future can be
// waited for again.
func ExampleFuture_Wait() {
	reg := actions.New()
	started, release := make(chan struct{}), make(chan struct{})
	must(reg.RegisterAction("TransferTask", func(_ context.Context, task any) (any, error) {
		close(started)
		<-release
		return fmt.Sprint("transferred ", task), nil
	}))
	f := reg.InvokeAction(context.Background(), "TransferTask", "WT1")
	<-started

	impatient, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("caller gave up"))
	fmt.Println(f.Wait(impatient))

	close(release)
	fmt.Println(f.Wait(context.Background()))
	fmt.Println(f.Wait(context.Background()))
	// Output:
	// <nil> actions: TransferTask: gave up waiting: caller gave up
	// transferred WT1 <nil>
	// transferred WT1 <nil>
}

// Done lets a caller check for completion without blocking, or select on
// several events.
func ExampleFuture_Done() {
	reg := actions.New()
	release := make(chan struct{})
	must(reg.RegisterAction("SendMessage", func(_ context.Context, msg any) (any, error) {
		<-release
		return fmt.Sprint("sent ", msg), nil
	}))
	f := reg.InvokeAction(context.Background(), "SendMessage", "hello")
	select {
	case <-f.Done():
		fmt.Println("done")
	default:
		fmt.Println("still sending")
	}
	close(release)
	<-f.Done()
	fmt.Println(f.Result())
	// Output:
	// still sending
	// sent hello <nil>
}

func ExampleFuture_Result() {
	reg := actions.New()
	must(reg.RegisterAction("SendMessage", echo("sent")))
	fmt.Println(reg.InvokeAction(context.Background(), "SendMessage", "hello").Result())
	// Output:
	// sent hello <nil>
}

// The seed example: a before-listener asks the agent to confirm accepting a
// task, and aborts if not.
func ExampleAbort() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", echo("accepted")))
	errDeclined := errors.New("agent declined")
	confirm := map[string]bool{"WT1": true, "WT2": false}
	reg.AddListener("beforeAcceptTask", func(_ context.Context, task any) error {
		if !confirm[task.(string)] {
			return actions.Abort(errDeclined)
		}
		return nil
	})
	ctx := context.Background()
	fmt.Println(reg.Call(ctx, "AcceptTask", "WT1"))
	_, err := reg.Call(ctx, "AcceptTask", "WT2")
	fmt.Println(errors.Is(err, actions.ErrAborted), errors.Is(err, errDeclined))
	fmt.Println(err)
	// Output:
	// accepted WT1 <nil>
	// true true
	// actions: AcceptTask: action aborted in before phase: agent declined
}

// The reason may be nil.
func ExampleAbort_withoutReason() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", echo("accepted")))
	reg.AddListener("beforeAcceptTask", func(context.Context, any) error {
		return actions.Abort(nil)
	})
	_, err := reg.Call(context.Background(), "AcceptTask", "WT1")
	fmt.Println(err)
	// Output:
	// actions: AcceptTask: action aborted in before phase
}

// Named names a listener in the error of an invocation it aborts or fails.
func ExampleNamed() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", echo("accepted")))
	reg.AddListener("beforeAcceptTask", func(context.Context, any) error {
		return actions.Abort(errors.New("outside working hours"))
	}, actions.Named("schedule"))
	_, err := reg.Call(context.Background(), "AcceptTask", "WT1")
	if e, ok := errors.AsType[*actions.Error](err); ok {
		fmt.Println(e.Listener)
	}
	fmt.Println(err)
	// Output:
	// schedule
	// actions: AcceptTask: action aborted in before phase by listener "schedule": outside working hours
}

func ExamplePriority() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", echo("accepted")))
	for _, l := range []struct {
		name     string
		priority int
	}{{"audit", -1}, {"greet", 0}, {"confirm", 10}, {"log", 0}} {
		reg.AddListener("beforeAcceptTask", func(context.Context, any) error {
			fmt.Println(l.name)
			return nil
		}, actions.Priority(l.priority))
	}
	fmt.Println(reg.Call(context.Background(), "AcceptTask", "WT1"))
	// Output:
	// confirm
	// greet
	// log
	// audit
	// accepted WT1 <nil>
}

func ExampleOnce() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", echo("accepted")))
	reg.AddListener("afterAcceptTask", func(context.Context, any) error {
		fmt.Println("first task of the shift")
		return nil
	}, actions.Once())
	ctx := context.Background()
	fmt.Println(reg.Call(ctx, "AcceptTask", "WT1"))
	fmt.Println(reg.Call(ctx, "AcceptTask", "WT2"))
	fmt.Println(len(reg.Listeners("afterAcceptTask")))
	// Output:
	// first task of the shift
	// accepted WT1 <nil>
	// accepted WT2 <nil>
	// 0
}

func ExampleParseEvent() {
	for _, event := range []string{"beforeAcceptTask", "afterWrapupTask", "before", "BeforeAcceptTask", "onAcceptTask"} {
		after, action, ok := actions.ParseEvent(event)
		fmt.Printf("%-17s after=%-5v action=%-12q ok=%v\n", event, after, action, ok)
	}
	// Output:
	// beforeAcceptTask  after=false action="AcceptTask" ok=true
	// afterWrapupTask   after=true  action="WrapupTask" ok=true
	// before            after=false action=""           ok=false
	// BeforeAcceptTask  after=false action=""           ok=false
	// onAcceptTask      after=false action=""           ok=false
}

// UpdatePayload turns what the caller passes (a task SID) into what every
// listener and the body work on; blocks still see the caller's payload.
func ExampleUpdatePayload() {
	reg := actions.New()
	tasks := map[string]*Task{"WT1": {SID: "WT1", Channel: "voice"}}
	must(reg.RegisterAction("AcceptTask", func(_ context.Context, payload any) (any, error) {
		task := payload.(*Task)
		return "accepted " + task.Channel + " task " + task.SID, nil
	}, actions.UpdatePayload(func(_ context.Context, sid any) (any, error) {
		task, ok := tasks[sid.(string)]
		if !ok {
			return nil, fmt.Errorf("no task %v", sid)
		}
		return task, nil
	})))
	ctx := context.Background()
	fmt.Println(reg.Call(ctx, "AcceptTask", "WT1"))
	fmt.Println(reg.Call(ctx, "AcceptTask", "WT9"))
	// Output:
	// accepted voice task WT1 <nil>
	// <nil> actions: AcceptTask: action failed in payload update: no task WT9
}

// Deduplicate rejects an invocation while another with the same key is in
// flight, as Flex does ("Action is pending").
func ExampleDeduplicate() {
	reg := actions.New()
	started, release := make(chan struct{}), make(chan struct{})
	must(reg.RegisterAction("AcceptTask", func(_ context.Context, task any) (any, error) {
		if task == "WT1" {
			close(started)
			<-release
		}
		return fmt.Sprint("accepted ", task), nil
	}, actions.Deduplicate(func(task any) string { return task.(string) }, actions.RejectPending)))
	ctx := context.Background()
	first := reg.InvokeAction(ctx, "AcceptTask", "WT1")
	<-started
	_, err := reg.Call(ctx, "AcceptTask", "WT1") // a double click
	fmt.Println(errors.Is(err, actions.ErrPending), err)
	fmt.Println(reg.Call(ctx, "AcceptTask", "WT2"))
	close(release)
	fmt.Println(first.Wait(ctx))
	// Output:
	// true actions: AcceptTask: action pending
	// accepted WT2 <nil>
	// accepted WT1 <nil>
}

// With SharePending a duplicate joins the invocation in flight and completes
// with its result, as golang.org/x/sync/singleflight does.
func ExampleDeduplicate_share() {
	reg := actions.New()
	var keys atomic.Int32
	release := make(chan struct{})
	key := func(task any) string {
		if keys.Add(1) == 2 { // the duplicate is being keyed: let the first finish
			close(release)
		}
		return task.(string)
	}
	must(reg.RegisterAction("AcceptTask", func(_ context.Context, task any) (any, error) {
		<-release
		return fmt.Sprint("accepted ", task), nil
	}, actions.Deduplicate(key, actions.SharePending)))
	ctx := context.Background()
	first := reg.InvokeAction(ctx, "AcceptTask", "WT1")
	second := reg.InvokeAction(ctx, "AcceptTask", "WT1")
	fmt.Println(first.Wait(ctx))
	fmt.Println(second.Wait(ctx))
	// Output:
	// accepted WT1 <nil>
	// accepted WT1 <nil>
}

// With concurrent phases every listener of a phase starts at once. When one
// aborts, the others' context is cancelled with the abort as its cause.
func ExampleConcurrent() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", echo("accepted"), actions.Concurrent(true)))
	reg.AddListener("beforeAcceptTask", func(context.Context, any) error {
		return actions.Abort(errors.New("agent declined"))
	}, actions.Named("confirm"))
	var prefetch error
	reg.AddListener("beforeAcceptTask", func(ctx context.Context, _ any) error {
		<-ctx.Done() // a slow fetch of the customer's history, say
		prefetch = context.Cause(ctx)
		return nil
	}, actions.Named("prefetch"))
	_, err := reg.Call(context.Background(), "AcceptTask", "WT1")
	fmt.Println("prefetch stopped by:", prefetch)
	fmt.Println("invocation failed with the same error:", errors.Is(err, prefetch))
	// Output:
	// prefetch stopped by: actions: AcceptTask: action aborted in before phase by listener "confirm": agent declined
	// invocation failed with the same error: true
}

// WithConcurrentPhases makes concurrent phases the registry's default, which
// an action may turn off with Concurrent(false).
func ExampleWithConcurrentPhases() {
	reg := actions.New(actions.WithConcurrentPhases())
	must(reg.RegisterAction("AcceptTask", echo("accepted")))
	must(reg.RegisterAction("RejectTask", echo("rejected"), actions.Concurrent(false)))
	for _, name := range []string{"AcceptTask", "RejectTask"} {
		reg.AddListener("before"+name, func(context.Context, any) error {
			return actions.Abort(nil)
		})
		var ran atomic.Bool
		reg.AddListener("before"+name, func(ctx context.Context, _ any) error {
			ran.Store(true)
			<-ctx.Done() // cancelled by the abort in a concurrent phase
			return nil
		})
		_, err := reg.Call(context.Background(), name, "WT1")
		fmt.Printf("%s: aborted=%v second listener ran=%v\n", name, errors.Is(err, actions.ErrAborted), ran.Load())
	}
	// Output:
	// AcceptTask: aborted=true second listener ran=true
	// RejectTask: aborted=true second listener ran=false
}

// WithErrorHandler receives the errors no caller can: those of
// after-listeners, which run once the body's work is done and cannot change
// the outcome.
func ExampleWithErrorHandler() {
	reg := actions.New(actions.WithErrorHandler(func(_ context.Context, err error) {
		fmt.Println("handler:", err)
	}))
	must(reg.RegisterAction("CompleteTask", echo("completed")))
	reg.AddListener("afterCompleteTask", func(context.Context, any) error {
		return errors.New("survey not sent")
	}, actions.Named("survey"))
	reg.AddListener("afterCompleteTask", func(context.Context, any) error {
		panic("metrics backend down")
	}, actions.Named("metrics"))
	// Both failures reach the handler in one call, joined.
	fmt.Println(reg.Call(context.Background(), "CompleteTask", "WT1"))
	// Output:
	// handler: actions: CompleteTask: after-listener "survey" failed: survey not sent
	// actions: CompleteTask: after-listener "metrics" failed: panic: metrics backend down
	// completed WT1 <nil>
}

// An action that re-invokes itself with the context it was given is nested
// one level deeper each time, until the depth limit stops it.
func ExampleWithMaxDepth() {
	fmt.Println("default limit:", actions.DefaultMaxDepth)
	reg := actions.New(actions.WithMaxDepth(3))
	var bodies atomic.Int32
	must(reg.RegisterAction("TransferTask", func(ctx context.Context, task any) (any, error) {
		bodies.Add(1)
		return reg.Call(ctx, "TransferTask", task) // a transfer loop
	}))
	_, err := reg.Call(context.Background(), "TransferTask", "WT1")
	fmt.Println("bodies run:", bodies.Load())
	fmt.Println(errors.Is(err, actions.ErrDepthExceeded))
	// Output:
	// default limit: 64
	// bodies run: 3
	// true
}

// tracer is an Observer that prints what it sees; its methods are called in
// the invoking goroutine, so Call makes the order of the lines deterministic.
type tracer struct{}

func (tracer) InvocationBegin(ctx context.Context, inv actions.Invocation) context.Context {
	fmt.Printf("begin %s id=%d parent=%d depth=%d\n", inv.Action, inv.ID, inv.ParentID, inv.Depth)
	return ctx
}

func (tracer) InvocationEnd(_ context.Context, inv actions.Invocation, out actions.Outcome) {
	fmt.Printf("end   %s id=%d result=%v aborted=%v err=%v\n", inv.Action, inv.ID, out.Result, out.Aborted, out.Err)
}

func ExampleWithObserver() {
	reg := actions.New(actions.WithObserver(tracer{}))
	must(reg.RegisterAction("SendMessage", echo("sent")))
	must(reg.RegisterAction("WrapupTask", func(ctx context.Context, task any) (any, error) {
		if _, err := reg.Call(ctx, "SendMessage", "goodbye"); err != nil {
			return nil, err
		}
		return fmt.Sprint("wrapped up ", task), nil
	}))
	ctx := context.Background()
	reg.Call(ctx, "WrapupTask", "WT1")
	reg.Call(ctx, "HangupCall", "CA1") // rejected invocations are seen too
	// Output:
	// begin WrapupTask id=1 parent=0 depth=1
	// begin SendMessage id=2 parent=1 depth=2
	// end   SendMessage id=2 result=sent goodbye aborted=false err=<nil>
	// end   WrapupTask id=1 result=wrapped up WT1 aborted=false err=<nil>
	// begin HangupCall id=3 parent=0 depth=1
	// end   HangupCall id=3 result=<nil> aborted=false err=actions: HangupCall: action not found
}

// button is an InFlightObserver that disables a button while its action is
// in flight, as Flex UI does.
type button struct{}

func (button) InvocationBegin(ctx context.Context, _ actions.Invocation) context.Context { return ctx }
func (button) InvocationEnd(context.Context, actions.Invocation, actions.Outcome)        {}

func (button) InFlightBegin(_ context.Context, inv actions.Invocation) {
	fmt.Println("disable", inv.Action, "button")
}

func (button) InFlightEnd(_ context.Context, inv actions.Invocation) {
	fmt.Println("enable", inv.Action, "button")
}

func ExampleInFlightObserver() {
	reg := actions.New(actions.WithObserver(button{}))
	must(reg.RegisterAction("AcceptTask", func(_ context.Context, task any) (any, error) {
		fmt.Println("accepting", task)
		return nil, nil
	}))
	ctx := context.Background()
	reg.Call(ctx, "AcceptTask", "WT1")
	// A rejected invocation has no in-flight window.
	defer reg.BlockAction("AcceptTask", nil)()
	_, err := reg.Call(ctx, "AcceptTask", "WT2")
	fmt.Println(err)
	// Output:
	// disable AcceptTask button
	// accepting WT1
	// enable AcceptTask button
	// actions: AcceptTask: action blocked
}

func ExampleSlogObserver() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" { // not reproducible
				return slog.Attr{}
			}
			return a
		},
	}))
	reg := actions.New(actions.WithObserver(actions.SlogObserver(logger)))
	must(reg.RegisterAction("AcceptTask", echo("accepted")))
	reg.AddListener("beforeAcceptTask", func(_ context.Context, task any) error {
		if task == "WT2" {
			return actions.Abort(errors.New("agent declined"))
		}
		return nil
	})
	ctx := context.Background()
	reg.Call(ctx, "AcceptTask", "WT1")
	reg.Call(ctx, "AcceptTask", "WT2")
	reg.Call(ctx, "RejectTask", "WT3")
	// Output:
	// level=DEBUG msg="action begin" action=AcceptTask id=1 depth=1
	// level=DEBUG msg="action done" action=AcceptTask id=1 depth=1 status=ok
	// level=DEBUG msg="action begin" action=AcceptTask id=2 depth=1
	// level=INFO msg="action aborted" action=AcceptTask id=2 depth=1 status=aborted stage="before phase" reason="agent declined" err="actions: AcceptTask: action aborted in before phase: agent declined"
	// level=DEBUG msg="action begin" action=RejectTask id=3 depth=1
	// level=INFO msg="action rejected" action=RejectTask id=3 depth=1 status=rejected err="actions: RejectTask: action not found"
}

// Error carries the details of a failed invocation; errors.Is reaches both
// its kind and its cause.
func ExampleError() {
	reg := actions.New()
	errCRM := errors.New("crm unavailable")
	must(reg.RegisterAction("CompleteTask", func(context.Context, any) (any, error) {
		return nil, errCRM
	}))
	_, err := reg.Call(context.Background(), "CompleteTask", "WT1")
	fmt.Println(err)
	if e, ok := errors.AsType[*actions.Error](err); ok {
		fmt.Printf("action=%s kind=%q stage=%q\n", e.Action, e.Kind, e.Stage)
	}
	fmt.Println(errors.Is(err, actions.ErrFailed), errors.Is(err, errCRM))
	// Output:
	// actions: CompleteTask: action failed in body: crm unavailable
	// action=CompleteTask kind="actions: action failed" stage="body"
	// true true
}

// An invocation stopped by its context has no Kind: its error matches the
// context's cause.
func ExampleError_cancelled() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", echo("accepted")))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := reg.Call(ctx, "AcceptTask", "WT1")
	fmt.Println(err)
	fmt.Println(errors.Is(err, context.Canceled))
	// Output:
	// actions: AcceptTask: stopped: context canceled
	// true
}

// A panic in user code is recovered: the invocation fails and the host goes
// on.
func ExamplePanicError() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", func(_ context.Context, payload any) (any, error) {
		return payload.(*Task).SID, nil
	}))
	_, err := reg.Call(context.Background(), "AcceptTask", nil)
	if p, ok := errors.AsType[*actions.PanicError](err); ok {
		fmt.Println("panic value:", p.Value)
		fmt.Println("has stack:", len(p.Stack) > 0)
	}
	fmt.Println(errors.Is(err, actions.ErrPanicked), errors.Is(err, actions.ErrFailed))
	// Output:
	// panic value: interface conversion: interface {} is nil, not *actions_test.Task
	// has stack: true
	// true true
}

// A panic with an error value is reachable with errors.Is.
func ExamplePanicError_Unwrap() {
	reg := actions.New()
	errCRM := errors.New("crm unavailable")
	must(reg.RegisterAction("CompleteTask", func(context.Context, any) (any, error) {
		panic(errCRM)
	}))
	_, err := reg.Call(context.Background(), "CompleteTask", "WT1")
	fmt.Println(err)
	fmt.Println(errors.Is(err, actions.ErrPanicked), errors.Is(err, errCRM))
	// Output:
	// actions: CompleteTask: action failed in body: panic: crm unavailable
	// true true
}

// A typed action checks what arrives through the untyped API.
func ExamplePayloadTypeError() {
	reg := actions.New()
	accept := actions.Typed[*Task, string](reg, "AcceptTask")
	must(accept.Register(func(_ context.Context, task *Task) (string, error) {
		return task.SID, nil
	}))
	_, err := reg.Call(context.Background(), "AcceptTask", "WT1")
	fmt.Println(err)
	if e, ok := errors.AsType[*actions.PayloadTypeError](err); ok {
		fmt.Println("want", e.Want, "got", e.Got)
	}
	fmt.Println(errors.Is(err, actions.ErrPayloadType))
	// Output:
	// actions: AcceptTask: wrong payload type: payload is string, want *actions_test.Task
	// want *actions_test.Task got string
	// true
}

func ExampleStage_String() {
	for s := actions.StageBlock; s <= actions.StageObserver; s++ {
		fmt.Println(s)
	}
	// Output:
	// block match
	// de-duplication key
	// payload update
	// before phase
	// body
	// after phase
	// observer
}

// Typed gives compile-time payload and result types over the same names as
// the untyped API, so typed and Flex-style code see the same action.
func ExampleTyped() {
	reg := actions.New()
	accept := actions.Typed[*Task, string](reg, "AcceptTask")
	must(accept.Register(func(_ context.Context, task *Task) (string, error) {
		task.Status = "accepted"
		return "accepted " + task.SID, nil
	}))
	reg.AddListener("afterAcceptTask", func(_ context.Context, payload any) error {
		fmt.Println("untyped listener sees", payload.(*Task).Status)
		return nil
	})
	fmt.Println(accept.Call(context.Background(), &Task{SID: "WT1"}))
	// Output:
	// untyped listener sees accepted
	// accepted WT1 <nil>
}

func ExampleAction_Name() {
	accept := actions.Typed[*Task, string](actions.New(), "AcceptTask")
	fmt.Println(accept.Name())
	// Output:
	// AcceptTask
}

func ExampleAction_Registry() {
	reg := actions.New()
	accept := actions.Typed[*Task, string](reg, "AcceptTask")
	fmt.Println(accept.Registry() == reg)
	fmt.Println(actions.Typed[*Task, string](nil, "AcceptTask").Registry() == actions.Default())
	// Output:
	// true
	// true
}

func ExampleAction_Register() {
	reg := actions.New()
	accept := actions.Typed[*Task, string](reg, "AcceptTask")
	unregister, err := accept.Register(func(_ context.Context, task *Task) (string, error) {
		return "accepted " + task.SID, nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(accept.Call(context.Background(), &Task{SID: "WT1"}))
	_, err = accept.Register(func(context.Context, *Task) (string, error) { return "", nil })
	fmt.Println(err)
	fmt.Println(unregister())
	// Output:
	// accepted WT1 <nil>
	// actions: AcceptTask: action already registered
	// true
}

func ExampleAction_Invoke() {
	reg := actions.New()
	accept := actions.Typed[*Task, string](reg, "AcceptTask")
	must(accept.Register(func(_ context.Context, task *Task) (string, error) {
		return "accepted " + task.SID, nil
	}))
	ctx := context.Background()
	f := accept.Invoke(ctx, &Task{SID: "WT1"})
	res, err := f.Wait(ctx) // res is a string
	fmt.Println(strings.ToUpper(res), err)
	// Output:
	// ACCEPTED WT1 <nil>
}

func ExampleAction_Call() {
	reg := actions.New()
	count := actions.Typed[[]string, int](reg, "CountTasks")
	must(count.Register(func(_ context.Context, sids []string) (int, error) {
		return len(sids), nil
	}))
	n, err := count.Call(context.Background(), []string{"WT1", "WT2"})
	fmt.Println(n+1, err)
	// Output:
	// 3 <nil>
}

func ExampleAction_Before() {
	reg := actions.New()
	accept := actions.Typed[*Task, string](reg, "AcceptTask")
	must(accept.Register(func(_ context.Context, task *Task) (string, error) {
		return "accepted " + task.SID, nil
	}))
	accept.Before(func(_ context.Context, task *Task) error {
		if task.Channel == "sms" {
			return actions.Abort(errors.New("sms is disabled"))
		}
		return nil
	})
	ctx := context.Background()
	fmt.Println(accept.Call(ctx, &Task{SID: "WT1", Channel: "voice"}))
	_, err := accept.Call(ctx, &Task{SID: "WT2", Channel: "sms"})
	fmt.Println(err)
	// Output:
	// accepted WT1 <nil>
	// actions: AcceptTask: action aborted in before phase: sms is disabled
}

func ExampleAction_After() {
	reg := actions.New()
	complete := actions.Typed[*Task, struct{}](reg, "CompleteTask")
	must(complete.Register(func(_ context.Context, task *Task) (struct{}, error) {
		task.Status = "completed"
		return struct{}{}, nil
	}))
	remove := complete.After(func(_ context.Context, task *Task) error {
		fmt.Println(task.SID, task.Status)
		return nil
	})
	complete.Call(context.Background(), &Task{SID: "WT1"})
	fmt.Println(remove(), remove())
	// Output:
	// WT1 completed
	// true false
}

// original runs the layer below with the payload it is given, typed.
func ExampleAction_Replace() {
	reg := actions.New()
	send := actions.Typed[string, string](reg, "SendMessage")
	must(send.Register(func(_ context.Context, msg string) (string, error) {
		return "sent " + msg, nil
	}))
	send.Replace(func(ctx context.Context, msg string, original func(context.Context, string) (string, error)) (string, error) {
		return original(ctx, strings.TrimSpace(msg)+" -- Agent Smith")
	})
	fmt.Println(send.Call(context.Background(), "  thanks for calling  "))
	// Output:
	// sent thanks for calling -- Agent Smith <nil>
}

func ExampleAction_Block() {
	reg := actions.New()
	transfer := actions.Typed[*Task, string](reg, "TransferTask")
	must(transfer.Register(func(_ context.Context, task *Task) (string, error) {
		return "transferred " + task.SID, nil
	}))
	unblock := transfer.Block(func(task *Task) bool { return task.Channel == "chat" })
	ctx := context.Background()
	fmt.Println(transfer.Call(ctx, &Task{SID: "WT1", Channel: "voice"}))
	_, err := transfer.Call(ctx, &Task{SID: "WT2", Channel: "chat"})
	fmt.Println(err)
	unblock()
	fmt.Println(transfer.Call(ctx, &Task{SID: "WT2", Channel: "chat"}))
	// Output:
	// transferred WT1 <nil>
	// actions: TransferTask: action blocked
	// transferred WT2 <nil>
}

func ExampleAction_InFlight() {
	reg := actions.New()
	accept := actions.Typed[*Task, string](reg, "AcceptTask")
	started, release := make(chan struct{}), make(chan struct{})
	must(accept.Register(func(_ context.Context, task *Task) (string, error) {
		close(started)
		<-release
		return "accepted " + task.SID, nil
	}))
	ctx := context.Background()
	f := accept.Invoke(ctx, &Task{SID: "WT1"})
	<-started
	fmt.Println("in flight:", accept.InFlight())
	close(release)
	fmt.Println(f.Wait(ctx))
	fmt.Println("in flight:", accept.InFlight())
	// Output:
	// in flight: 1
	// accepted WT1 <nil>
	// in flight: 0
}

func ExampleUpdatePayloadOf() {
	reg := actions.New()
	send := actions.Typed[string, string](reg, "SendMessage")
	must(send.Register(func(_ context.Context, msg string) (string, error) {
		return "sent " + msg, nil
	}, actions.UpdatePayloadOf(func(_ context.Context, msg string) (string, error) {
		return strings.TrimSpace(msg), nil
	})))
	send.Before(func(_ context.Context, msg string) error {
		fmt.Printf("before sees %q\n", msg)
		return nil
	})
	fmt.Println(send.Call(context.Background(), "  hello  "))
	// Output:
	// before sees "hello"
	// sent hello <nil>
}

func ExampleDeduplicateBy() {
	reg := actions.New()
	accept := actions.Typed[*Task, string](reg, "AcceptTask")
	started, release := make(chan struct{}), make(chan struct{})
	must(accept.Register(func(_ context.Context, task *Task) (string, error) {
		close(started)
		<-release
		return "accepted " + task.SID, nil
	}, actions.DeduplicateBy(func(task *Task) string { return task.SID }, actions.RejectPending)))
	ctx := context.Background()
	first := accept.Invoke(ctx, &Task{SID: "WT1"})
	<-started
	// Another payload value, the same task: rejected.
	_, err := accept.Call(ctx, &Task{SID: "WT1"})
	fmt.Println(err)
	close(release)
	fmt.Println(first.Wait(ctx))
	// Output:
	// actions: AcceptTask: action pending
	// accepted WT1 <nil>
}

// Actions lists every name that has something on it, registered or not:
// here a before-listener whose action a plugin has not registered yet.
func ExampleRegistry_Actions() {
	reg := actions.New()
	noop := func(context.Context, any) error { return nil }
	must(reg.RegisterAction("AcceptTask", echo("accepted"),
		actions.Deduplicate(func(task any) string { return fmt.Sprint(task) }, actions.SharePending)))
	reg.AddListener("beforeAcceptTask", noop, actions.Named("confirm"), actions.Priority(10))
	reg.AddListener("afterAcceptTask", noop, actions.Named("notify"), actions.Once())
	reg.ReplaceAction("AcceptTask", func(ctx context.Context, task any, original actions.Body) (any, error) {
		return original(ctx, task)
	})
	reg.AddListener("beforeWrapupTask", noop, actions.Named("survey"))
	reg.BlockAction("StartOutboundCall", nil)
	base := func(sources []string) []string {
		out := make([]string, len(sources))
		for i, s := range sources {
			out[i] = path.Base(s)
		}
		return out
	}
	for _, a := range reg.Actions() {
		fmt.Printf("%s registered=%v", a.Name, a.Registered)
		if a.Registered {
			fmt.Printf(" at %s dedup=%v share=%v", path.Base(a.Source), a.Deduplicates, a.SharePending)
		}
		fmt.Println()
		for _, l := range a.Before {
			fmt.Printf("  before %s priority=%d once=%v at %s\n", l.Name, l.Priority, l.Once, path.Base(l.Source))
		}
		for _, l := range a.After {
			fmt.Printf("  after %s priority=%d once=%v at %s\n", l.Name, l.Priority, l.Once, path.Base(l.Source))
		}
		fmt.Printf("  replacements=%d %v blocks=%d %v in flight=%d\n",
			a.Replacements, base(a.ReplacementSources), a.Blocks, base(a.BlockSources), a.InFlight)
	}
	// Output:
	// AcceptTask registered=true at example_test.go:1159 dedup=true share=true
	//   before confirm priority=10 once=false at example_test.go:1161
	//   after notify priority=0 once=true at example_test.go:1162
	//   replacements=1 [example_test.go:1163] blocks=0 [] in flight=0
	// StartOutboundCall registered=false
	//   replacements=0 [] blocks=1 [example_test.go:1167] in flight=0
	// WrapupTask registered=false
	//   before survey priority=0 once=false at example_test.go:1166
	//   replacements=0 [] blocks=0 [] in flight=0
}

// A listener on a misspelt event is accepted, since its action may be
// registered later, and never runs. Check, called once the plugins are
// loaded, finds it and names the action that was probably meant.
func ExampleRegistry_Check() {
	reg := actions.New()
	validate := func(context.Context, any) error { return nil }
	must(reg.RegisterAction("CreateOrder", echo("created")))
	reg.AddListener("beforeCreateOrdr", validate, actions.Named("validate"))
	reg.BlockAction("RefundOrder", nil)
	if err := reg.Check(); err != nil {
		fmt.Println(err)
		fmt.Println(errors.Is(err, actions.ErrActionNotFound))
	}
	// Output:
	// actions: beforeCreateOrdr: listener "validate" on no action CreateOrdr; did you mean CreateOrder?
	// actions: RefundOrder: 1 block on no action RefundOrder
	// true
}

// Each orphan is an *OrphanError, reached with errors.As.
func ExampleOrphanError() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", echo("accepted")))
	reg.AddListener("afteracceptTask", func(context.Context, any) error { return nil })
	var orphan *actions.OrphanError
	if errors.As(reg.Check(), &orphan) {
		fmt.Printf("%+v\n", *orphan)
	}
	// Output:
	// {Action:acceptTask What:a listener Event:afteracceptTask Suggestion:AcceptTask}
}

// A stage finds its own invocation in its context: a plugin logs and
// correlates without writing an observer. IDs come with an observer.
func ExampleInvocationFrom() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", func(ctx context.Context, task any) (any, error) {
		return reg.Call(ctx, "NotifyAgent", task)
	}))
	must(reg.RegisterAction("NotifyAgent", func(ctx context.Context, task any) (any, error) {
		inv, _ := actions.InvocationFrom(ctx)
		fmt.Printf("%s at depth %d for %v\n", inv.Action, inv.Depth, task)
		return "notified", nil
	}))
	fmt.Println(reg.Call(context.Background(), "AcceptTask", "WT1"))
	_, ok := actions.InvocationFrom(context.Background())
	fmt.Println(ok)
	// Output:
	// NotifyAgent at depth 2 for WT1
	// notified <nil>
	// false
}

// StatusOf names how an invocation ended, for a log line, a metric label or
// an HTTP status: a cancellation is told from a failure wherever the deadline
// landed.
func ExampleStatusOf() {
	reg := actions.New()
	must(reg.RegisterAction("Lookup", func(ctx context.Context, _ any) (any, error) {
		<-ctx.Done() // a slow backend
		return nil, fmt.Errorf("backend: %w", ctx.Err())
	}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := reg.Call(ctx, "Lookup", nil)
	fmt.Println(actions.StatusOf(err), errors.Is(err, context.Canceled), errors.Is(err, actions.ErrFailed))
	_, err = reg.Call(context.Background(), "Missing", nil)
	fmt.Println(actions.StatusOf(err))
	fmt.Println(actions.StatusOf(nil))
	// Output:
	// cancelled true false
	// rejected
	// ok
}

// ErrorAttrs gives an error handler or a log line the error's details as
// attributes.
func ExampleErrorAttrs() {
	reg := actions.New()
	must(reg.RegisterAction("ChargeCard", echo("charged")))
	reg.AddListener("beforeChargeCard", func(context.Context, any) error {
		return actions.Abort(errors.New("over quota"))
	}, actions.Named("quota"))
	_, err := reg.Call(context.Background(), "ChargeCard", 12)
	for _, a := range actions.ErrorAttrs(err) {
		fmt.Println(a)
	}
	// Output:
	// status=aborted
	// stage=before phase
	// listener=quota
	// reason=over quota
	// err=actions: ChargeCard: action aborted in before phase by listener "quota": over quota
}

// Stop bounds a shutdown: after a Close whose graceful wait ran out, it
// cancels the contexts of the invocations still in flight and waits for
// them.
func ExampleRegistry_Stop() {
	reg := actions.New()
	started := make(chan struct{})
	must(reg.RegisterAction("Export", func(ctx context.Context, _ any) (any, error) {
		close(started)
		<-ctx.Done() // a long export that honours its context
		return nil, context.Cause(ctx)
	}))
	fut := reg.InvokeAction(context.Background(), "Export", nil)
	<-started
	graceful, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	fmt.Println(reg.Close(graceful))
	fmt.Println(reg.Stop(context.Background()))
	_, err := fut.Result()
	fmt.Println(actions.StatusOf(err), errors.Is(err, actions.ErrClosed))
	// Output:
	// context deadline exceeded
	// <nil>
	// cancelled true
}

// ErrorOf reads an invocation's own error, even from a concurrent phase's
// joined errors, without walking into what user code returned.
func ExampleErrorOf() {
	reg := actions.New()
	must(reg.RegisterAction("AcceptTask", echo("accepted"), actions.Concurrent(true)))
	reg.AddListener("beforeAcceptTask", func(context.Context, any) error { return errors.New("crm down") }, actions.Named("crm"))
	reg.AddListener("beforeAcceptTask", func(ctx context.Context, _ any) error {
		<-ctx.Done() // stops early: the other listener's failure cancelled the phase
		return ctx.Err()
	})
	_, err := reg.Call(context.Background(), "AcceptTask", "WT1")
	e := actions.ErrorOf(err)
	fmt.Println(e.Stage, e.Listener, actions.StatusOf(err))
	fmt.Println(actions.ErrorOf(errors.New("not the library's")) == nil)
	// Output:
	// before phase crm failed
	// true
}
