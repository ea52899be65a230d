// Package actionstest is what every test of code built on actions needs,
// written once: a registry that checks, when the test ends, that no
// invocation leaked and no error went unnoticed; a recorder that tells which
// invocations ran, nested how and ending how, and which steps ran in which
// order; and fakes for bodies and listeners.
//
//	func TestConfirmAborts(t *testing.T) {
//		reg := actionstest.New(t) // checked and closed when the test ends
//		rec := actionstest.Record(reg)
//		reg.RegisterAction("AcceptTask", rec.Body("body", nil))
//		reg.AddListener("beforeAcceptTask", rec.Listener("confirm", actionstest.Aborts(nil).Listener))
//
//		reg.Call(t.Context(), "AcceptTask", "WT1")
//
//		rec.AssertSteps(t, "confirm")                  // else: want confirm; got confirm, body
//		rec.AssertInvocations(t, "AcceptTask aborted") // nested invocations are indented
//	}
//
// The package imports the standard library and actions only. It reports
// through a [testing.TB], so it works with plain testing and with any
// assertion library; its assertions fail the test with Errorf, never
// FailNow, and return whether they held.
//
// # The registry
//
// [New] returns an [actions.Registry] for one test, made with the test's own
// options, and registers a cleanup on the test that
//
//   - closes the registry, waiting at most 5 seconds for the invocations in
//     flight. Any still running then leaked (a stage that never returns, a
//     blocking fake never released): the test fails with their actions'
//     names, and the registry is stopped ([actions.Registry.Stop]), which
//     cancels their contexts, so that the next test does not inherit them;
//   - fails the test if errors reached the error handler (after-listener
//     failures, observer panics: see [actions.WithErrorHandler]), listing
//     them, unless the test declared them expected with
//     [Recorder.AllowHandledErrors].
//
// # The error handler and the observer
//
// New installs an error handler and an observer of its own, before the
// test's options. Observers add up ([actions.WithObserver]): the test's
// observers see every invocation too. Error handlers do not: the last one
// given wins, so an [actions.WithErrorHandler] among the test's options
// takes over from the package's. Then the handler given runs, as it would in
// production, and the recorder still sees the after-listeners' failures,
// through the observer ([actions.Outcome].AfterErr), but no longer the
// panics of observers, which only the handler receives.
//
// # Recording
//
// [Record] returns the [Recorder] that New installed. It records every
// invocation as the observer sees it ([Recorder.Invocations],
// [Recorder.AssertInvocations]) and every error handled
// ([Recorder.HandledErrors]). Steps are what the test marks: wrap a listener
// or a body with [Recorder.Listener] or [Recorder.Body], or call
// [Recorder.Step], and [Recorder.AssertSteps] compares the order with the
// one expected. A phase whose listeners run concurrently records them in
// the order they happened to run.
//
// # Fakes
//
// A [Fake] stands in for a body or a listener: [Returns] a result, [Aborts]
// with a reason, [Fails] with an error, or blocks until released
// ([Blocking]). Every fake counts its calls and tells when it was first
// entered. A blocked fake honours its context: it returns the context's
// error once the context is done, so a test that forgets to release it
// fails (as a leak) rather than hangs.
//
// # Concurrency
//
// Recorders and fakes are safe for concurrent use: the invocations of the
// registry, in goroutines of their own, record while the test reads.
package actionstest
