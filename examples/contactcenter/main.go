// Command contactcenter reproduces, in Go, each use case of the Actions
// Framework documentation of Twilio Flex UI, on a tiny in-memory contact
// centre: tasks on the voice and chat channels, the actions that move them
// through their statuses, and six plugins that extend those actions. Each
// plugin is an [actions.Plugin]: its registrations are installed together
// and removed together. The program checks that the plugins hooked into
// actions that exist, runs a scripted scenario and prints a trace of what
// happened and why, which starts with how to read it.
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
//
// Later in the scenario, a seventh plugin, maintenance, is installed for a
// while: it blocks AcceptTask with a reason, and its error names the
// plugin; unloading it removes the block. Then a second version of
// chat-goodbye is loaded under the same name, which replaces the first in
// one step: a hot reload.
//
// With -http ADDR, after the scenario it serves the registry's debug page
// (package actionsdebug) at http://ADDR/debug/actions until interrupted:
//
//	go run ./examples/contactcenter -http 127.0.0.1:8080
//
// An address without a host, such as :8080, listens on the loopback
// interface only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionsdebug"
)

func main() {
	addr := flag.String("http", "", "after the scenario, serve the debug page at `ADDR`"+actionsdebug.Path+" until interrupted (a host-less :PORT is loopback only)")
	flag.Parse()
	var err error
	if *addr == "" {
		err = run(os.Stdout)
	} else {
		err = runAndServe(os.Stdout, *addr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "contactcenter:", err)
		os.Exit(1)
	}
}

// run plays the scenario against a CRM served on a local test server, and
// prints the trace to w. It fails before the scenario starts if a plugin
// hooked into an action that does not exist (see app.install).
func run(w io.Writer) error {
	_, err := play(w, actions.New)
	return err
}

// play is run with a registry made by newRegistry; it returns the app,
// with its registry as the scenario left it.
func play(w io.Writer, newRegistry func(...actions.Option) *actions.Registry) (*app, error) {
	crm := &CRM{}
	srv := httptest.NewServer(crm)
	defer srv.Close()

	a, err := newApp(w, newRegistry)
	if err != nil {
		return nil, err
	}
	a.trace.legend()
	if err := a.install(demoPlugins(srv, scripted(true, false, true, true))...); err != nil {
		return nil, err
	}
	if err := a.scenario(context.Background(), crm); err != nil {
		return nil, err
	}
	return a, a.trace.error()
}

// runAndServe is run with a recorder observing the registry; then it
// serves the registry's debug page on addr until interrupted.
func runAndServe(w io.Writer, addr string) error {
	ln, err := listen(addr) // before the scenario, so a busy port fails first
	if err != nil {
		return err
	}
	defer ln.Close()
	rec := actionsdebug.NewRecorder()
	a, err := play(w, func(opts ...actions.Option) *actions.Registry {
		return actions.New(append(opts, actions.WithObserver(rec))...)
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stderr, "debug page: http://%s%s (interrupt to stop)\n", ln.Addr(), actionsdebug.Path)
	return serveDebug(ctx, ln, a.reg, rec)
}

// listen listens on addr; an address without a host listens on the
// loopback interface only.
func listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-http %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.Listen("tcp", net.JoinHostPort(host, port))
}

// serveDebug serves the debug page of reg, with rec's history, on ln until
// ctx is done.
func serveDebug(ctx context.Context, ln net.Listener, reg *actions.Registry, rec *actionsdebug.Recorder) error {
	mux := http.NewServeMux()
	actionsdebug.Register(mux, reg, actionsdebug.WithRecorder(rec))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
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
