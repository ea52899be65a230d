// Command contactcenter reproduces, in Go, each use case of the Actions
// Framework documentation of Twilio Flex UI, on a tiny in-memory contact
// centre: tasks on the voice and chat channels, the actions that move them
// through their statuses, and six plugins that extend those actions. It
// checks that the plugins hooked into actions that exist, runs a scripted
// scenario and prints a trace of what happened and why, which starts with
// how to read it.
//
// The plugins, one per use case of the documentation:
//
//  1. accept-notifier: an afterAcceptTask listener.
//  2. confirm-accept: asks the agent before a task is accepted and aborts
//     AcceptTask if they decline.
//  3. voice-detector: a beforeAcceptTask listener that logs voice calls.
//  4. screen-pop: replaces AcceptTask with logic that then runs the original.
//  5. crm-sync: registers MyAction, which makes an HTTP request, and invokes
//     it from afterCompleteTask.
//  6. chat-goodbye: replaces WrapupTask so that a chat gets a closing message
//     through SendMessage before the original runs.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"sync"

	"github.com/go-actions/actions"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "contactcenter:", err)
		os.Exit(1)
	}
}

// run plays the scenario against a CRM served on a local test server, and
// prints the trace to w. It fails before the scenario starts if a plugin
// hooked into an action that does not exist (see app.install).
func run(w io.Writer) error {
	crm := &CRM{}
	srv := httptest.NewServer(crm)
	defer srv.Close()

	a, err := newApp(w, actions.New)
	if err != nil {
		return err
	}
	a.trace.legend()
	if err := a.install(demoPlugins(srv, scripted(true, false, true))...); err != nil {
		return err
	}
	if err := a.scenario(context.Background(), crm); err != nil {
		return err
	}
	return a.trace.error()
}

// demoPlugins returns the six plugins, in the order they are installed,
// with the CRM served by crm and prompt standing in for the agent.
func demoPlugins(crm *httptest.Server, prompt Prompt) []plugin {
	return []plugin{
		acceptNotifier(),
		confirmAccept(prompt),
		voiceDetector(),
		screenPop(),
		crmSync(crm.Client(), crm.URL),
		chatGoodbye(),
	}
}

// scripted returns a prompt that gives the answers in order, standing in for
// the agent, and fails once they run out.
func scripted(answers ...bool) Prompt {
	var mu sync.Mutex
	return func(_ context.Context, question string) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(answers) == 0 {
			return false, fmt.Errorf("no scripted answer to %q", question)
		}
		ok := answers[0]
		answers = answers[1:]
		return ok, nil
	}
}
