// Command typed shows typed action handles: compile-time payload and result
// types over the same named actions the untyped API sees, de-duplication of
// concurrent invocations (shared, as with singleflight, or rejected, as in
// Flex), and blocking.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/go-actions/actions"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "typed:", err)
		os.Exit(1)
	}
}

// Profile is a customer profile, as the backend returns it.
type Profile struct {
	ID    string
	Name  string
	Fetch int // which backend fetch produced it, to show sharing
}

// errNoID aborts a LoadProfile without a customer ID.
var errNoID = errors.New("no customer ID")

// backend is a slow profile store. It counts its fetches, so that the trace
// shows how many callers each one served. It is safe for concurrent use.
type backend struct {
	latency time.Duration
	names   map[string]string

	mu      sync.Mutex // guards fetches
	fetches int
}

func (b *backend) fetch(ctx context.Context, id string) (Profile, error) {
	t := time.NewTimer(b.latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return Profile{}, context.Cause(ctx)
	}
	name, ok := b.names[id]
	if !ok {
		return Profile{}, fmt.Errorf("no customer %q", id)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fetches++
	return Profile{ID: id, Name: name, Fetch: b.fetches}, nil
}

func run(w io.Writer) error {
	ctx := context.Background()
	p := &printer{w: w}
	reg := actions.New()
	// The latency is what lets concurrent callers meet while a fetch is in
	// flight; the test runs this program in a synctest bubble, where it is
	// exact.
	b := &backend{latency: 50 * time.Millisecond, names: map[string]string{
		"ada": "Ada Lovelace", "grace": "Grace Hopper", "mallory": "Mallory Malicious",
	}}

	loadProfile, err := registerLoadProfile(reg, b)
	if err != nil {
		return err
	}
	p.printf("LoadProfile takes a customer ID and returns a Profile")

	p.step("1. One caller")
	prof, err := loadProfile.Call(ctx, "ada")
	if err != nil {
		return err
	}
	p.printf("ada: %s (fetch #%d)", prof.Name, prof.Fetch)

	p.step("2. Three callers at once for the same customer share one fetch")
	futures := make([]*actions.Future[Profile], 3)
	for i := range futures {
		futures[i] = loadProfile.Invoke(ctx, "grace")
	}
	for i, f := range futures {
		prof, err := f.Wait(ctx)
		if err != nil {
			return err
		}
		p.printf("caller %d: %s (fetch #%d)", i+1, prof.Name, prof.Fetch)
	}
	p.printf("backend fetches so far: %d", b.count())

	p.step("3. Blocking a customer")
	unblock := loadProfile.Block(func(id string) bool { return id == "mallory" })
	_, err = loadProfile.Call(ctx, "mallory")
	p.printf("mallory: %v (errors.Is ErrBlocked: %t)", err, errors.Is(err, actions.ErrBlocked))
	if !errors.Is(err, actions.ErrBlocked) {
		return fmt.Errorf("want a blocked error, got %v", err)
	}
	if prof, err = loadProfile.Call(ctx, "ada"); err != nil {
		return err
	}
	p.printf("ada is not blocked: %s (fetch #%d)", prof.Name, prof.Fetch)
	p.printf("unblock removed the block: %t", unblock())
	if prof, err = loadProfile.Call(ctx, "mallory"); err != nil {
		return err
	}
	p.printf("mallory: %s (fetch #%d)", prof.Name, prof.Fetch)

	p.step("4. A typed listener aborts")
	_, err = loadProfile.Call(ctx, "")
	var ae *actions.Error
	if !errors.As(err, &ae) || !errors.Is(err, errNoID) {
		return fmt.Errorf("want an abort for errNoID, got %v", err)
	}
	p.printf("%v", err)
	p.printf("aborted by %q, reason %q", ae.Listener, ae.Err)

	p.step("5. The untyped API sees the same action")
	v, err := reg.Call(ctx, "LoadProfile", "grace")
	if err != nil {
		return err
	}
	p.printf("reg.Call(\"LoadProfile\", \"grace\") = %T %+v", v, v)
	_, err = reg.Call(ctx, "LoadProfile", 42)
	var pe *actions.PayloadTypeError
	if !errors.As(err, &pe) {
		return fmt.Errorf("want a *PayloadTypeError, got %v", err)
	}
	p.printf("reg.Call(\"LoadProfile\", 42): %v", err)
	p.printf("payload type error: want %v, got %v", pe.Want, pe.Got)
	// A handle whose result type disagrees with the body's: caught when the
	// result is converted, after the body ran.
	_, err = actions.Typed[string, string](reg, "LoadProfile").Call(ctx, "ada")
	if !errors.As(err, &pe) || !pe.Result {
		return fmt.Errorf("want a result *PayloadTypeError, got %v", err)
	}
	p.printf("Typed[string, string].Call: %v", err)

	p.step("6. Rejecting instead of sharing, as Flex does")
	if err := rejectPending(ctx, p, reg); err != nil {
		return err
	}
	return p.err
}

// registerLoadProfile registers LoadProfile, which fetches profiles from b,
// and returns its typed handle.
func registerLoadProfile(reg *actions.Registry, b *backend) (actions.Action[string, Profile], error) {
	// The body takes a string and returns a Profile, and the action rejects
	// any other payload before a stage runs.
	loadProfile := actions.Typed[string, Profile](reg, "LoadProfile")
	_, err := loadProfile.Register(b.fetch,
		// Callers asking for the same customer while a fetch is in flight
		// share it.
		actions.DeduplicateBy(func(id string) string { return id }, actions.SharePending),
	)
	loadProfile.Before(func(_ context.Context, id string) error {
		if id == "" {
			return actions.Abort(errNoID)
		}
		return nil
	}, actions.Named("require-id"))
	return loadProfile, err
}

// rejectPending shows RejectPending: while a save of a profile is in flight,
// another save of the same profile fails with ErrPending at once.
func rejectPending(ctx context.Context, p *printer, reg *actions.Registry) error {
	started, release := make(chan struct{}), make(chan struct{})
	signal := sync.OnceFunc(func() { close(started) })
	save := actions.Typed[Profile, bool](reg, "SaveProfile")
	_, err := save.Register(func(ctx context.Context, prof Profile) (bool, error) {
		signal()
		<-release
		return true, nil
	}, actions.DeduplicateBy(func(prof Profile) string { return prof.ID }, actions.RejectPending))
	if err != nil {
		return err
	}
	prof := Profile{ID: "ada", Name: "Ada King"}
	first := save.Invoke(ctx, prof)
	<-started // the first save is in flight
	_, err = save.Call(ctx, prof)
	p.printf("second save while the first is in flight: %v (errors.Is ErrPending: %t)", err, errors.Is(err, actions.ErrPending))
	if !errors.Is(err, actions.ErrPending) {
		return fmt.Errorf("want a pending error, got %v", err)
	}
	close(release)
	saved, err := first.Wait(ctx)
	if err != nil {
		return err
	}
	p.printf("first save: %t", saved)
	saved, err = save.Call(ctx, prof)
	if err != nil {
		return err
	}
	p.printf("a save after it: %t", saved)
	return nil
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fetches
}

// printer prints the trace and keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

func (p *printer) step(title string) {
	p.printf("")
	p.printf("# %s", title)
}
