package actionstest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionstest"
)

// The examples are tests: each runs one, as go test would, with a
// testing.TB that records what the test reports (report, in tb_test.go),
// and prints PASS, or FAIL and the messages.

// register registers body under name, and fails the test if it cannot.
func register(t testing.TB, reg *actions.Registry, name string, body actions.Body, opts ...actions.ActionOption) {
	t.Helper()
	if _, err := reg.RegisterAction(name, body, opts...); err != nil {
		t.Fatal(err)
	}
}

var errDeclined = errors.New("agent declined")

// A plugin's test: the plugin's listener vetoes AcceptTask; the test
// checks which steps ran and how the invocation ended.
func Example() {
	// confirm is the plugin's before-listener under test.
	confirm := func(_ context.Context, task any) error {
		if task == "WT2" {
			return actions.Abort(errDeclined)
		}
		return nil
	}
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		register(t, reg, "AcceptTask", rec.Body("body", actionstest.Returns("accepted").Body))
		reg.AddListener("beforeAcceptTask", rec.Listener("confirm", confirm))
		reg.AddListener("afterAcceptTask", rec.Listener("notify", nil))

		for _, task := range []string{"WT1", "WT2"} {
			if _, err := reg.Call(t.Context(), "AcceptTask", task); task == "WT2" && !errors.Is(err, errDeclined) {
				t.Errorf("WT2: want the agent's refusal, got %v", err)
			}
		}

		rec.AssertSteps(t, "confirm", "body", "notify", "confirm")
		rec.AssertInvocations(t, "AcceptTask ok", "AcceptTask aborted")
	})
	// Output:
	// PASS
}

// A test that uses the registry and leaves nothing running passes; the
// registry is closed when it ends.
func ExampleNew() {
	var reg *actions.Registry
	report(func(t testing.TB) {
		reg = actionstest.New(t, actions.WithMaxDepth(4))
		register(t, reg, "SendMessage", actionstest.Returns("IM1").Body)
		res, err := reg.Call(t.Context(), "SendMessage", "hello")
		fmt.Println(res, err)
	})
	_, err := reg.Call(context.Background(), "SendMessage", "hello")
	fmt.Println(err)
	// Output:
	// IM1 <nil>
	// PASS
	// actions: SendMessage: registry closed
}

// An after-listener's failure does not fail the invocation: it goes to the
// error handler, where no caller sees it. The test fails when it ends,
// unless it declared the error expected.
func ExampleNew_unexpectedHandledError() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		register(t, reg, "CompleteTask", actionstest.Returns("completed").Body)
		reg.AddListener("afterCompleteTask", actionstest.Fails(errors.New("crm down")).Listener, actions.Named("crm-sync"))
		res, err := reg.Call(t.Context(), "CompleteTask", "WT1")
		fmt.Println(res, err)
	})
	// Output:
	// completed <nil>
	// FAIL
	//     actionstest: 1 unexpected error(s) reached the error handler (call Recorder.AllowHandledErrors if the test expects them):
	//     	actions: CompleteTask: after-listener "crm-sync" failed: crm down
}

// A handler of the test's own replaces the package's, and runs; the
// recorder still records the after-listeners' failures.
func ExampleNew_errorHandlerOfYourOwn() {
	report(func(t testing.TB) {
		own := actions.WithErrorHandler(func(_ context.Context, err error) { fmt.Println("own handler:", err) })
		reg := actionstest.New(t, own)
		rec := actionstest.Record(reg)
		rec.AllowHandledErrors()
		register(t, reg, "CompleteTask", actionstest.Returns(nil).Body)
		reg.AddListener("afterCompleteTask", actionstest.Fails(errors.New("crm down")).Listener)
		if _, err := reg.Call(t.Context(), "CompleteTask", "WT1"); err != nil {
			t.Fatal(err)
		}
		fmt.Println("recorded:", rec.HandledErrors())
	})
	// Output:
	// own handler: actions: CompleteTask: after-listener failed: crm down
	// recorded: [actions: CompleteTask: after-listener failed: crm down]
	// PASS
}

func ExampleRecord() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg) // the recorder New installed
		register(t, reg, "A", actionstest.Returns(nil).Body)
		if _, err := reg.Call(t.Context(), "B", nil); !errors.Is(err, actions.ErrActionNotFound) {
			t.Error(err)
		}
		fmt.Println(rec.Invocations())
	})
	// Output:
	// [B rejected]
	// PASS
}

// A step recorded from a replacement, between the listeners' and the
// body's.
func ExampleRecorder_Step() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		register(t, reg, "WrapupTask", rec.Body("body", nil))
		reg.ReplaceAction("WrapupTask", func(ctx context.Context, task any, original actions.Body) (any, error) {
			rec.Step("goodbye")
			return original(ctx, task)
		})
		reg.AddListener("beforeWrapupTask", rec.Listener("before", nil))
		if _, err := reg.Call(t.Context(), "WrapupTask", "WT1"); err != nil {
			t.Fatal(err)
		}
		fmt.Println(rec.Steps())
	})
	// Output:
	// [before goodbye body]
	// PASS
}

// Listener records a step, then runs the listener it wraps: here one that
// aborts, so the body never runs.
func ExampleRecorder_Listener() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		register(t, reg, "AcceptTask", rec.Body("body", nil))
		reg.AddListener("beforeAcceptTask", rec.Listener("voice", nil), actions.Priority(10))
		reg.AddListener("beforeAcceptTask", rec.Listener("confirm", actionstest.Aborts(errDeclined).Listener))
		_, err := reg.Call(t.Context(), "AcceptTask", "WT1")
		fmt.Println(err)
		rec.AssertSteps(t, "voice", "confirm")
	})
	// Output:
	// actions: AcceptTask: action aborted in before phase: agent declined
	// PASS
}

// Body records a step, then runs the body it wraps and returns its result.
func ExampleRecorder_Body() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		register(t, reg, "SendMessage", rec.Body("send", actionstest.Returns("IM7").Body))
		res, err := reg.Call(t.Context(), "SendMessage", "hi")
		fmt.Println(res, err, rec.Steps())
	})
	// Output:
	// IM7 <nil> [send]
	// PASS
}

// Steps are recorded in the order they ran, across invocations.
func ExampleRecorder_Steps() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		register(t, reg, "A", rec.Body("A", nil))
		register(t, reg, "B", rec.Body("B", nil))
		reg.AddListener("afterA", func(ctx context.Context, p any) error {
			_, err := reg.Call(ctx, "B", p)
			return err
		})
		if _, err := reg.Call(t.Context(), "A", nil); err != nil {
			t.Fatal(err)
		}
		fmt.Println(rec.Steps())
	})
	// Output:
	// [A B]
	// PASS
}

// Invocations tells each invocation's action, nesting and outcome.
func ExampleRecorder_Invocations() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		register(t, reg, "ChargeCard", actionstest.Fails(errors.New("card declined")).Body)
		register(t, reg, "CreateOrder", func(ctx context.Context, order any) (any, error) {
			return reg.Call(ctx, "ChargeCard", order)
		})
		_, _ = reg.Call(t.Context(), "CreateOrder", "O1")
		for _, inv := range rec.Invocations() {
			fmt.Printf("%s: depth %d, parent %d, status %v, error %v\n",
				inv.Action, inv.Depth, inv.ParentID, inv.Outcome.Status(), inv.Outcome.Err)
		}
	})
	// Output:
	// CreateOrder: depth 1, parent 0, status failed, error actions: CreateOrder: action failed in body: ChargeCard: action failed in body: card declined
	// ChargeCard: depth 2, parent 1, status failed, error actions: ChargeCard: action failed in body: card declined
	// PASS
}

// A test that expects an after-listener to fail allows the error, then
// checks it.
func ExampleRecorder_HandledErrors() {
	errCRM := errors.New("crm down")
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		rec.AllowHandledErrors()
		register(t, reg, "CompleteTask", actionstest.Returns(nil).Body)
		reg.AddListener("afterCompleteTask", actionstest.Fails(errCRM).Listener)
		if _, err := reg.Call(t.Context(), "CompleteTask", "WT1"); err != nil {
			t.Fatal(err)
		}
		errs := rec.HandledErrors()
		if len(errs) != 1 || !errors.Is(errs[0], errCRM) {
			t.Errorf("want the CRM's failure handled, got %v", errs)
		}
	})
	// Output:
	// PASS
}

// Without AllowHandledErrors, this test would fail when it ends.
func ExampleRecorder_AllowHandledErrors() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		actionstest.Record(reg).AllowHandledErrors()
		register(t, reg, "A", actionstest.Returns(nil).Body)
		reg.AddListener("afterA", actionstest.Fails(errors.New("expected")).Listener)
		_, _ = reg.Call(t.Context(), "A", nil)
	})
	// Output:
	// PASS
}

// A mismatch fails the test with both orders.
func ExampleRecorder_AssertSteps() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		register(t, reg, "CreateOrder", rec.Body("body", nil))
		reg.AddListener("beforeCreateOrder", rec.Listener("before:validate", nil))
		reg.AddListener("afterCreateOrdr", rec.Listener("after:audit", nil)) // misspelt: never runs
		_, _ = reg.Call(t.Context(), "CreateOrder", nil)
		rec.AssertSteps(t, "before:validate", "body", "after:audit")
	})
	// Output:
	// FAIL
	//     actionstest: steps: want before:validate, body, after:audit; got before:validate, body
}

// A mismatch fails the test with both lists, one invocation a line, nested
// ones indented.
func ExampleRecorder_AssertInvocations() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		rec := actionstest.Record(reg)
		register(t, reg, "NotifyAgent", actionstest.Returns(nil).Body)
		register(t, reg, "CreateOrder", actionstest.Returns("O1").Body)
		reg.AddListener("afterCreateOrder", func(ctx context.Context, order any) error {
			_, err := reg.Call(ctx, "NotifyAgent", order)
			return err
		})
		reg.AddListener("beforeNotifyAgent", actionstest.Aborts(nil).Listener)
		rec.AllowHandledErrors()
		_, _ = reg.Call(t.Context(), "CreateOrder", nil)
		rec.AssertInvocations(t, "CreateOrder ok", "  NotifyAgent ok")
	})
	// Output:
	// FAIL
	//     actionstest: invocations differ
	//     want:
	//     	CreateOrder ok
	//     	  NotifyAgent ok
	//     got:
	//     	CreateOrder ok
	//     	  NotifyAgent aborted
}

func ExampleInvocation_String() {
	inv := actionstest.Invocation{
		Invocation: actions.Invocation{Action: "ChargeCard", Depth: 2},
		Outcome:    actions.Outcome{Err: &actions.Error{Action: "ChargeCard", Kind: actions.ErrAborted}},
		Ended:      true,
	}
	fmt.Printf("%q\n", inv.String())
	inv.Ended = false
	fmt.Printf("%q\n", inv.String())
	// Output:
	// "  ChargeCard aborted"
	// "  ChargeCard running"
}

func ExampleReturns() {
	f := actionstest.Returns("IM1")
	fmt.Println(f.Body(context.Background(), "hello"))
	fmt.Println(f.Listener(context.Background(), "hello"))
	// Output:
	// IM1 <nil>
	// <nil>
}

// An Aborts fake as a before-listener aborts the invocation, with its
// reason.
func ExampleAborts() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		register(t, reg, "AcceptTask", actionstest.Returns(nil).Body)
		reg.AddListener("beforeAcceptTask", actionstest.Aborts(errDeclined).Listener)
		_, err := reg.Call(t.Context(), "AcceptTask", "WT1")
		fmt.Println(actions.StatusOf(err), errors.Is(err, errDeclined))
	})
	// Output:
	// aborted true
	// PASS
}

// A Fails fake as a body fails the invocation with its error.
func ExampleFails() {
	errDown := errors.New("crm down")
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		register(t, reg, "MyAction", actionstest.Fails(errDown).Body)
		_, err := reg.Call(t.Context(), "MyAction", nil)
		fmt.Println(actions.StatusOf(err), errors.Is(err, errDown))
	})
	// Output:
	// failed true
	// PASS
}

// A blocking body holds its invocation in flight until released: the test
// checks what holds meanwhile.
func ExampleBlocking() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		b := actionstest.Blocking()
		register(t, reg, "AcceptTask", b.Body)
		fut := reg.InvokeAction(t.Context(), "AcceptTask", "WT1")
		<-b.Entered()
		fmt.Println("in flight:", reg.InFlight("AcceptTask"))
		b.Release()
		_, err := fut.Wait(t.Context())
		fmt.Println("done:", err, reg.InFlight("AcceptTask"))
	})
	// Output:
	// in flight: 1
	// done: <nil> 0
	// PASS
}

func ExampleFake_Body() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		register(t, reg, "SendMessage", actionstest.Returns("IM1").Body)
		fmt.Println(reg.Call(t.Context(), "SendMessage", "hi"))
	})
	// Output:
	// IM1 <nil>
	// PASS
}

func ExampleFake_Listener() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		register(t, reg, "AcceptTask", actionstest.Returns("assigned").Body)
		veto := actionstest.Aborts(nil)
		reg.AddListener("beforeAcceptTask", veto.Listener, actions.Once())
		_, err := reg.Call(t.Context(), "AcceptTask", "WT1")
		fmt.Println(err)
		fmt.Println(reg.Call(t.Context(), "AcceptTask", "WT1"))
	})
	// Output:
	// actions: AcceptTask: action aborted in before phase
	// assigned <nil>
	// PASS
}

// Calls counts the calls of a fake: here, a once-listener ran once.
func ExampleFake_Calls() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		audit := actionstest.Returns(nil)
		register(t, reg, "A", actionstest.Returns(nil).Body)
		reg.AddListener("afterA", audit.Listener, actions.Once())
		for range 3 {
			if _, err := reg.Call(t.Context(), "A", nil); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Println(audit.Calls())
	})
	// Output:
	// 1
	// PASS
}

// Entered tells when an invocation reached the fake: here, a second
// invocation with the same key is rejected while the first is pending.
func ExampleFake_Entered() {
	report(func(t testing.TB) {
		reg := actionstest.New(t)
		b := actionstest.Blocking()
		register(t, reg, "CompleteTask", b.Body, actions.Deduplicate(func(task any) string { return task.(string) }, actions.RejectPending))
		first := reg.InvokeAction(t.Context(), "CompleteTask", "WT1")
		select {
		case <-b.Entered():
		case <-t.Context().Done():
			t.Fatal("the body was never entered")
		}
		_, err := reg.Call(t.Context(), "CompleteTask", "WT1")
		fmt.Println(err)
		b.Release()
		fmt.Println(first.Wait(t.Context()))
	})
	// Output:
	// actions: CompleteTask: action pending
	// <nil> <nil>
	// PASS
}

// Release lets blocked calls return, and later calls through.
func ExampleFake_Release() {
	b := actionstest.Blocking()
	done := make(chan error)
	go func() { done <- b.Listener(context.Background(), nil) }()
	<-b.Entered()
	b.Release()
	fmt.Println(<-done, b.Listener(context.Background(), nil), b.Calls())
	// Output:
	// <nil> <nil> 2
}
