package actionstest_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeT is a testing.TB that keeps what a test reports instead of reporting
// it, so that the package's own failures can be shown and checked. It
// overrides the methods that the package and these tests call; the embedded
// TB is nil, so calling any other panics.
type fakeT struct {
	testing.TB
	ctx context.Context

	mu       sync.Mutex // guards the fields below
	errors   []string
	failed   bool
	cleanups []func()
}

func (t *fakeT) Helper()                  {}
func (t *fakeT) Name() string             { return "TestFake" }
func (t *fakeT) Context() context.Context { return t.ctx }
func (t *fakeT) Log(...any)               {}
func (t *fakeT) Logf(string, ...any)      {}

func (t *fakeT) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errors = append(t.errors, fmt.Sprintf(format, args...))
	t.failed = true
}

func (t *fakeT) Error(args ...any) { t.Errorf("%s", strings.TrimSuffix(fmt.Sprintln(args...), "\n")) }

func (t *fakeT) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	runtime.Goexit()
}

func (t *fakeT) Fatal(args ...any) {
	t.Error(args...)
	runtime.Goexit()
}

func (t *fakeT) Fail() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = true
}

func (t *fakeT) FailNow() {
	t.Fail()
	runtime.Goexit()
}

func (t *fakeT) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *fakeT) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// Errors returns what the test reported, in order.
func (t *fakeT) Errors() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.errors)
}

// runTest runs test as the testing package runs a test function: in a
// goroutine of its own, so that FailNow ends it, with a context cancelled
// once it returns, then its cleanups, the last registered first.
func runTest(test func(t testing.TB)) *fakeT {
	ctx, cancel := context.WithCancel(context.Background())
	t := &fakeT{ctx: ctx}
	inGoroutine(func() { test(t) })
	cancel()
	for {
		t.mu.Lock()
		n := len(t.cleanups)
		if n == 0 {
			t.mu.Unlock()
			return t
		}
		f := t.cleanups[n-1]
		t.cleanups = t.cleanups[:n-1]
		t.mu.Unlock()
		inGoroutine(f)
	}
}

func inGoroutine(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// report runs test and prints its result, as go test -v would: PASS, or
// FAIL and what the test reported, each message indented.
func report(test func(t testing.TB)) {
	t := runTest(test)
	if !t.Failed() {
		fmt.Println("PASS")
		return
	}
	fmt.Println("FAIL")
	for _, e := range t.Errors() {
		fmt.Println("    " + strings.ReplaceAll(e, "\n", "\n    "))
	}
}

func TestFakeT(t *testing.T) {
	ft := runTest(func(t testing.TB) {
		t.Cleanup(func() { t.Errorf("cleanup %d", 1) })
		t.Cleanup(func() { t.Error("cleanup", 2) })
		t.Errorf("in %s", "test")
		t.FailNow()
		t.Error("unreachable")
	})
	if !ft.Failed() {
		t.Error("a test that reported errors passed")
	}
	if got, want := ft.Errors(), []string{"in test", "cleanup 2", "cleanup 1"}; !slices.Equal(got, want) {
		t.Errorf("errors: want %q, got %q", want, got)
	}
	if pass := runTest(func(testing.TB) {}); pass.Failed() || len(pass.Errors()) > 0 {
		t.Error("an empty test failed")
	}
}
