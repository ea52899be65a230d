package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntrospectActions(t *testing.T) {
	nop := func(context.Context, any) error { return nil }
	body := func(_ context.Context, p any) (any, error) { return p, nil }
	key := func(p any) string { return fmt.Sprint(p) }
	layerNop := func(ctx context.Context, p any, original Body) (any, error) { return original(ctx, p) }

	cases := []struct {
		name  string
		opts  []Option
		setup func(t *testing.T, r *Registry)
		want  []ActionInfo
	}{
		{
			name:  "empty registry",
			setup: func(*testing.T, *Registry) {},
			want:  nil,
		},
		{
			name:  "registered",
			setup: func(t *testing.T, r *Registry) { mustRegister(t, r, "A", body) },
			want:  []ActionInfo{{Name: "A", Registered: true}},
		},
		{
			name: "orphan listeners",
			setup: func(t *testing.T, r *Registry) {
				r.AddListener("beforeGhost", nop, Named("validate"))
				r.AddListener("afterGhost", nop)
			},
			want: []ActionInfo{{
				Name:   "Ghost",
				Before: []ListenerInfo{{Name: "validate"}},
				After:  []ListenerInfo{{}},
			}},
		},
		{
			name: "blocked",
			setup: func(t *testing.T, r *Registry) {
				mustRegister(t, r, "A", body)
				r.BlockAction("A", nil)
				r.BlockAction("A", func(any) bool { return false })
				r.BlockAction("Unregistered", nil)
			},
			want: []ActionInfo{
				{Name: "A", Registered: true, Blocks: 2},
				{Name: "Unregistered", Blocks: 1},
			},
		},
		{
			name: "replaced",
			setup: func(t *testing.T, r *Registry) {
				mustRegister(t, r, "A", body)
				r.ReplaceAction("A", layerNop)
				r.ReplaceAction("A", layerNop)
				r.ReplaceAction("Later", layerNop)
			},
			want: []ActionInfo{
				{Name: "A", Registered: true, Replacements: 2},
				{Name: "Later", Replacements: 1},
			},
		},
		{
			name: "deduplicating, both modes",
			setup: func(t *testing.T, r *Registry) {
				mustRegister(t, r, "Reject", body, Deduplicate(key, RejectPending))
				mustRegister(t, r, "Share", body, Deduplicate(key, SharePending))
				mustRegister(t, r, "Typed", body, DeduplicateBy(func(s string) string { return s }, SharePending))
			},
			want: []ActionInfo{
				{Name: "Reject", Registered: true, Deduplicates: true},
				{Name: "Share", Registered: true, Deduplicates: true, SharePending: true},
				{Name: "Typed", Registered: true, Deduplicates: true, SharePending: true},
			},
		},
		{
			name: "concurrent by option",
			setup: func(t *testing.T, r *Registry) {
				mustRegister(t, r, "Conc", body, Concurrent(true))
				mustRegister(t, r, "Seq", body)
			},
			want: []ActionInfo{
				{Name: "Conc", Registered: true, Concurrent: true},
				{Name: "Seq", Registered: true},
			},
		},
		{
			name: "concurrent by registry default, overridden",
			opts: []Option{WithConcurrentPhases()},
			setup: func(t *testing.T, r *Registry) {
				mustRegister(t, r, "Conc", body)
				mustRegister(t, r, "Seq", body, Concurrent(false))
				r.AddListener("beforeUnregistered", nop)
			},
			want: []ActionInfo{
				{Name: "Conc", Registered: true, Concurrent: true},
				{Name: "Seq", Registered: true},
				{Name: "Unregistered", Before: []ListenerInfo{{}}},
			},
		},
		{
			name: "listener order with priorities, Once and names",
			setup: func(t *testing.T, r *Registry) {
				mustRegister(t, r, "A", body)
				r.AddListener("beforeA", nop, Named("audit"))
				r.AddListener("beforeA", nop, Named("confirm"), Priority(10))
				r.AddListener("beforeA", nop, Named("greet"), Once())
				r.AddListener("beforeA", nop, Priority(-1))
				r.AddListener("afterA", nop, Named("late"), Priority(-5))
				r.AddListener("afterA", nop, Named("early"), Priority(5), Once())
			},
			want: []ActionInfo{{
				Name:       "A",
				Registered: true,
				Before: []ListenerInfo{
					{Name: "confirm", Priority: 10},
					{Name: "audit"},
					{Name: "greet", Once: true},
					{Priority: -1},
				},
				After: []ListenerInfo{
					{Name: "early", Priority: 5, Once: true},
					{Name: "late", Priority: -5},
				},
			}},
		},
		{
			name: "sorted by name",
			setup: func(t *testing.T, r *Registry) {
				mustRegister(t, r, "b", body)
				r.BlockAction("C", nil)
				mustRegister(t, r, "a", body)
				r.AddListener("afterB", nop)
			},
			want: []ActionInfo{
				{Name: "B", After: []ListenerInfo{{}}},
				{Name: "C", Blocks: 1},
				{Name: "a", Registered: true},
				{Name: "b", Registered: true},
			},
		},
		{
			name: "a name whose everything was removed is not listed",
			setup: func(t *testing.T, r *Registry) {
				unregister := mustRegister(t, r, "Gone", body)
				removeListener := r.AddListener("beforeGone", nop)
				removeLayer := r.ReplaceAction("Gone", layerNop)
				unblock := r.BlockAction("Gone", nil)
				r.AddListener("afterGone", nop)
				r.AddListener("afterGone", nop)
				require.True(t, unregister())
				require.True(t, removeListener())
				require.True(t, removeLayer())
				require.True(t, unblock())
				require.Equal(t, 2, r.RemoveAllListeners("afterGone"))
				mustRegister(t, r, "Kept", body)
			},
			want: []ActionInfo{{Name: "Kept", Registered: true}},
		},
		{
			name: "unregistered keeps the rest",
			setup: func(t *testing.T, r *Registry) {
				unregister := mustRegister(t, r, "A", body, Deduplicate(key, SharePending), Concurrent(true))
				r.AddListener("beforeA", nop)
				require.True(t, unregister())
			},
			want: []ActionInfo{{Name: "A", Before: []ListenerInfo{{}}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := New(c.opts...)
			c.setup(t, r)
			got := noSources(r.Actions())
			if len(c.want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, c.want, got)
		})
	}

	t.Run("in flight: an invocation blocked in its body", func(t *testing.T) {
		r := New()
		started, release := make(chan struct{}), make(chan struct{})
		mustRegister(t, r, "Slow", func(_ context.Context, p any) (any, error) {
			started <- struct{}{}
			<-release
			return p, nil
		}, Deduplicate(func(p any) string { return fmt.Sprint(p) }, RejectPending))
		ctx := context.Background()
		f1 := r.InvokeAction(ctx, "Slow", 1)
		f2 := r.InvokeAction(ctx, "Slow", 2)
		_, ok := awaitChan(t, started, "first body")
		require.True(t, ok)
		_, ok = awaitChan(t, started, "second body")
		require.True(t, ok)

		got := noSources(r.Actions())
		require.Len(t, got, 1)
		assert.Equal(t, ActionInfo{Name: "Slow", Registered: true, Deduplicates: true, InFlight: 2}, got[0])
		assert.Equal(t, r.InFlight("Slow"), got[0].InFlight)

		close(release)
		for _, f := range []*Future[any]{f1, f2} {
			_, err, ok := awaitFuture(t, f)
			require.True(t, ok)
			require.NoError(t, err)
		}
		assert.Equal(t, []ActionInfo{{Name: "Slow", Registered: true, Deduplicates: true}}, noSources(r.Actions()))
	})

	t.Run("in flight after unregistering, while listeners remain", func(t *testing.T) {
		r := New()
		started, release := make(chan struct{}), make(chan struct{})
		unregister := mustRegister(t, r, "A", func(_ context.Context, p any) (any, error) {
			close(started)
			<-release
			return p, nil
		})
		r.AddListener("afterA", nop)
		f := r.InvokeAction(context.Background(), "A", nil)
		_, ok := awaitChan(t, started, "body")
		require.True(t, ok)
		require.True(t, unregister())
		assert.Equal(t, []ActionInfo{{Name: "A", After: []ListenerInfo{{}}, InFlight: 1}}, noSources(r.Actions()))
		close(release)
		_, err, ok := awaitFuture(t, f)
		require.True(t, ok)
		require.NoError(t, err)
	})

	t.Run("the result is the caller's", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "A", body)
		r.AddListener("beforeA", nop, Named("x"))
		got := r.Actions()
		got[0].Before[0].Name = "changed"
		assert.Equal(t, "x", r.Actions()[0].Before[0].Name)
		assert.Equal(t, "x", r.Listeners("beforeA")[0].Name)
	})

	t.Run("the zero Registry", func(t *testing.T) {
		var r Registry
		assert.Empty(t, r.Actions())
		assert.NoError(t, r.Check())
	})
}

func TestIntrospectCheck(t *testing.T) {
	nop := func(context.Context, any) error { return nil }
	body := func(_ context.Context, p any) (any, error) { return p, nil }
	layerNop := func(ctx context.Context, p any, original Body) (any, error) { return original(ctx, p) }

	t.Run("nil for a clean registry", func(t *testing.T) {
		r := New()
		assert.NoError(t, r.Check(), "empty")
		mustRegister(t, r, "CreateOrder", body)
		r.AddListener("beforeCreateOrder", nop, Named("validate"))
		r.AddListener("afterCreateOrder", nop)
		r.ReplaceAction("CreateOrder", layerNop)
		r.BlockAction("CreateOrder", func(any) bool { return false })
		assert.NoError(t, r.Check())
	})

	t.Run("listeners added before their action are fine once it is registered", func(t *testing.T) {
		r := New()
		r.AddListener("beforeLate", nop)
		r.ReplaceAction("Late", layerNop)
		require.Error(t, r.Check())
		unregister := mustRegister(t, r, "Late", body)
		assert.NoError(t, r.Check())
		require.True(t, unregister())
		assert.Error(t, r.Check(), "unregistered again, they are orphans again")
	})

	t.Run("removed orphans are no longer reported", func(t *testing.T) {
		r := New()
		remove := r.AddListener("beforeGhost", nop)
		unblock := r.BlockAction("Ghost", nil)
		require.Error(t, r.Check())
		require.True(t, remove())
		require.True(t, unblock())
		assert.NoError(t, r.Check())
	})

	t.Run("the typo case, with a suggestion", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "CreateOrder", body)
		r.AddListener("afterCreateOrdr", nop, Named("audit"))
		err := r.Check()
		require.Error(t, err)
		assert.EqualError(t, err, `actions: afterCreateOrdr: listener "audit" on no action CreateOrdr; did you mean CreateOrder?`)
		assert.ErrorIs(t, err, ErrActionNotFound)
		var oe *OrphanError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, OrphanError{Action: "CreateOrdr", What: `listener "audit"`, Event: "afterCreateOrdr", Suggestion: "CreateOrder"}, *oe)
	})

	t.Run("no suggestion when nothing is close", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "AcceptTask", body)
		r.AddListener("beforeSendInvoice", nop)
		err := r.Check()
		assert.EqualError(t, err, `actions: beforeSendInvoice: a listener on no action SendInvoice`)
		var oe *OrphanError
		require.ErrorAs(t, err, &oe)
		assert.Empty(t, oe.Suggestion)
	})

	t.Run("no suggestion from an empty registry", func(t *testing.T) {
		r := New()
		r.BlockAction("X", nil)
		assert.EqualError(t, r.Check(), `actions: X: 1 block on no action X`)
	})

	t.Run("multiple orphans joined in the documented order", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "CreateOrder", body)
		mustRegister(t, r, "AcceptTask", body)
		// Added in an order unlike the report's.
		r.BlockAction("Zeta", nil)
		r.ReplaceAction("CreateOrdr", layerNop)
		r.BlockAction("CreateOrdr", nil)
		r.AddListener("afterCreateOrdr", nop, Named("audit"))
		r.BlockAction("CreateOrdr", nil)
		r.AddListener("beforeCreateOrdr", nop, Named("second"))
		r.ReplaceAction("CreateOrdr", layerNop)
		r.AddListener("beforeCreateOrdr", nop, Named("first"), Priority(1))
		r.AddListener("afterCreateOrdr", nop)
		r.AddListener("beforeacceptTask", nop)
		r.ReplaceAction("Zeta", layerNop)

		err := r.Check()
		require.Error(t, err)
		want := []OrphanError{
			{Action: "CreateOrdr", What: `listener "first"`, Event: "beforeCreateOrdr", Suggestion: "CreateOrder"},
			{Action: "CreateOrdr", What: `listener "second"`, Event: "beforeCreateOrdr", Suggestion: "CreateOrder"},
			{Action: "CreateOrdr", What: `listener "audit"`, Event: "afterCreateOrdr", Suggestion: "CreateOrder"},
			{Action: "CreateOrdr", What: `a listener`, Event: "afterCreateOrdr", Suggestion: "CreateOrder"},
			{Action: "CreateOrdr", What: "2 replacements", Event: "CreateOrdr", Suggestion: "CreateOrder"},
			{Action: "CreateOrdr", What: "2 blocks", Event: "CreateOrdr", Suggestion: "CreateOrder"},
			{Action: "Zeta", What: "1 replacement", Event: "Zeta"},
			{Action: "Zeta", What: "1 block", Event: "Zeta"},
			{Action: "acceptTask", What: "a listener", Event: "beforeacceptTask", Suggestion: "AcceptTask"},
		}
		joined, ok := err.(interface{ Unwrap() []error })
		require.True(t, ok, "an errors.Join")
		var got []OrphanError
		for _, e := range joined.Unwrap() {
			oe, ok := e.(*OrphanError)
			require.True(t, ok, "%T", e)
			got = append(got, *oe)
		}
		assert.Equal(t, want, got)

		lines := strings.Split(err.Error(), "\n")
		require.Len(t, lines, len(want))
		assert.Equal(t, `actions: CreateOrdr: 2 replacements on no action CreateOrdr; did you mean CreateOrder?`, lines[4])
		assert.Equal(t, `actions: beforeacceptTask: a listener on no action acceptTask; did you mean AcceptTask?`, lines[8])
		for _, l := range lines {
			assert.True(t, strings.HasPrefix(l, "actions: "), l)
		}
		assert.ErrorIs(t, err, ErrActionNotFound)
		assert.NotErrorIs(t, err, ErrBlocked)
	})

	t.Run("OrphanError messages", func(t *testing.T) {
		cases := []struct {
			err  OrphanError
			want string
		}{
			{OrphanError{Action: "CreateOrdr", What: `listener "audit"`, Event: "afterCreateOrdr", Suggestion: "CreateOrder"},
				`actions: afterCreateOrdr: listener "audit" on no action CreateOrdr; did you mean CreateOrder?`},
			{OrphanError{Action: "CreateOrdr", What: "a listener", Event: "beforeCreateOrdr"},
				`actions: beforeCreateOrdr: a listener on no action CreateOrdr`},
			{OrphanError{Action: "X", What: "3 replacements", Event: "X"},
				`actions: X: 3 replacements on no action X`},
		}
		for _, c := range cases {
			assert.Equal(t, c.want, c.err.Error())
			assert.True(t, errors.Is(&c.err, ErrActionNotFound))
			assert.False(t, errors.Is(&c.err, ErrFailed))
		}
	})
}

func TestIntrospectNearest(t *testing.T) {
	cases := []struct {
		name       string
		candidates []string // sorted, as Check passes them
		want       string
	}{
		{"CreateOrdr", []string{"AcceptTask", "CreateOrder"}, "CreateOrder"},
		{"createorder", []string{"CreateOrder"}, "CreateOrder"},             // case-insensitive: distance 0
		{"acceptTask", []string{"AcceptTask", "acceptTasks"}, "AcceptTask"}, // 0 beats 1
		{"SendInvoice", []string{"AcceptTask", "CreateOrder"}, ""},
		{"X", nil, ""},
		{"X", []string{"Y"}, "Y"},                // max(1, 1/3) = 1
		{"X", []string{"YZ"}, ""},                // distance 2
		{"Ab", []string{"Abc", "Abd"}, "Abc"},    // tie: the first by name order
		{"Abcdef", []string{"Abxyef"}, "Abxyef"}, // 2 <= 6/3
		{"Abcdef", []string{"Axyzef"}, ""},       // 3 > 6/3
		{"Tâche", []string{"Tache"}, "Tache"},    // runes, not bytes
		{"ÉTAPE", []string{"étape"}, "étape"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, nearest(c.name, c.candidates))
		})
	}
}

func TestIntrospectLevenshtein(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"kitten", "sitting", 3},
		{"CreateOrdr", "CreateOrder", 1},
		{"flaw", "lawn", 2},
		{"abc", "abc", 0},
		{"ab", "ba", 2},
		{"é", "e", 1},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, levenshtein([]rune(c.a), []rune(c.b)), "%q %q", c.a, c.b)
		assert.Equal(t, c.want, levenshtein([]rune(c.b), []rune(c.a)), "%q %q", c.b, c.a)
	}
}

// Actions and Check read while other goroutines register, unregister, add
// and remove listeners, replace, block and invoke: no data race (under
// -race), no panic, and every description is one a snapshot could have.
func TestIntrospectConcurrent(t *testing.T) {
	r := New()
	nop := func(context.Context, any) error { return nil }
	body := func(_ context.Context, p any) (any, error) { return p, nil }
	layerNop := func(ctx context.Context, p any, original Body) (any, error) { return original(ctx, p) }
	mustRegister(t, r, "Stable", body)

	const rounds = 300
	var stop atomic.Bool
	var writers, readers sync.WaitGroup
	names := []string{"A", "B", "C", "D"}
	for i, name := range names {
		writers.Go(func() {
			for range rounds {
				unregister, err := r.RegisterAction(name, body, Deduplicate(func(p any) string { return fmt.Sprint(p) }, DedupMode(i%2)), Concurrent(i%2 == 0))
				remove := r.AddListener("before"+name, nop, Named(name), Priority(i))
				removeAfter := r.AddListener("after"+name, nop, Once())
				removeLayer := r.ReplaceAction(name, layerNop)
				unblock := r.BlockAction(name, func(p any) bool { return p == "blocked" })
				_, _ = r.Call(context.Background(), name, i)
				_ = r.InvokeAction(context.Background(), name, "blocked")
				if err == nil {
					unregister()
				}
				remove()
				removeAfter()
				removeLayer()
				unblock()
			}
		})
	}
	writers.Go(func() {
		for range rounds {
			_, _ = r.Call(context.Background(), "Stable", nil)
		}
	})
	for range 2 {
		readers.Go(func() {
			for !stop.Load() {
				for _, info := range r.Actions() {
					if !info.Registered {
						assert.False(t, info.Deduplicates || info.SharePending || info.Concurrent, "%+v", info)
					}
					assert.GreaterOrEqual(t, info.InFlight, 0)
				}
				err := r.Check()
				for _, e := range joinedErrors(err) {
					var oe *OrphanError
					if assert.ErrorAs(t, e, &oe) {
						assert.Contains(t, names, oe.Action)
					}
				}
			}
		})
	}
	writers.Wait()
	stop.Store(true)
	readers.Wait()
	require.NoError(t, closeWithin(r, waitBound))
	assert.Equal(t, []ActionInfo{{Name: "Stable", Registered: true}}, noSources(r.Actions()))
	assert.NoError(t, r.Check())
}

// joinedErrors returns the errors joined in err, err alone if it joins none,
// nil if err is nil.
func joinedErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// Each registration reports the file and line of the call that made it,
// whichever entry point made it: not a line of the library.
func TestIntrospectSources(t *testing.T) {
	nop := func(context.Context, any) error { return nil }
	body := func(_ context.Context, p any) (any, error) { return p, nil }
	layerNop := func(ctx context.Context, p any, original Body) (any, error) { return original(ctx, p) }

	t.Run("Registry methods", func(t *testing.T) {
		r := New()
		wantAction := nextLine()
		_, err := r.RegisterAction("A", body)
		require.NoError(t, err)
		wantBefore := nextLine()
		r.AddListener("beforeA", nop)
		wantAfter := nextLine()
		r.AddListener("afterA", nop, Named("audit"))
		wantLower := nextLine()
		r.ReplaceAction("A", layerNop)
		wantUpper := nextLine()
		r.ReplaceAction("A", layerNop)
		wantBlock1 := nextLine()
		r.BlockAction("A", func(any) bool { return false })
		wantBlock2 := nextLine()
		r.BlockAction("A", nil)

		assert.Equal(t, []ListenerInfo{{Source: wantBefore}}, r.Listeners("beforeA"))
		assert.Equal(t, []ListenerInfo{{Name: "audit", Source: wantAfter}}, r.Listeners("afterA"))
		assert.Equal(t, []ActionInfo{{
			Name: "A", Registered: true, Source: wantAction,
			Before:             []ListenerInfo{{Source: wantBefore}},
			After:              []ListenerInfo{{Name: "audit", Source: wantAfter}},
			Replacements:       2,
			ReplacementSources: []string{wantUpper, wantLower}, // the order they run
			Blocks:             2,
			BlockSources:       []string{wantBlock1, wantBlock2},
		}}, r.Actions())
	})

	t.Run("typed handle", func(t *testing.T) {
		r := New()
		a := Typed[string, string](r, "T")
		wantAction := nextLine()
		_, err := a.Register(func(_ context.Context, p string) (string, error) { return p, nil }, Concurrent(true))
		require.NoError(t, err)
		wantBefore := nextLine()
		a.Before(func(context.Context, string) error { return nil }, Priority(1))
		wantAfter := nextLine()
		a.After(func(context.Context, string) error { return nil })
		wantLayer := nextLine()
		a.Replace(func(ctx context.Context, p string, original func(context.Context, string) (string, error)) (string, error) {
			return original(ctx, p)
		})
		wantBlock1 := nextLine()
		a.Block(func(p string) bool { return p == "x" })
		wantBlock2 := nextLine()
		a.Block(nil)

		got := r.Actions()
		require.Len(t, got, 1)
		assert.Equal(t, wantAction, got[0].Source)
		assert.Equal(t, []ListenerInfo{{Priority: 1, Source: wantBefore}}, got[0].Before)
		assert.Equal(t, []ListenerInfo{{Source: wantAfter}}, got[0].After)
		assert.Equal(t, []string{wantLayer}, got[0].ReplacementSources)
		assert.Equal(t, []string{wantBlock1, wantBlock2}, got[0].BlockSources)
	})

	t.Run("package functions on the default registry", func(t *testing.T) {
		const name = "IntrospectSourcesProbe" // a name of its own: the default registry is shared
		wantAction := nextLine()
		unregister, err := RegisterAction(name, body)
		require.NoError(t, err)
		t.Cleanup(func() { unregister() })
		wantListener := nextLine()
		removeListener := AddListener("before"+name, nop)
		t.Cleanup(func() { removeListener() })
		wantLayer := nextLine()
		removeLayer := ReplaceAction(name, layerNop)
		t.Cleanup(func() { removeLayer() })
		wantBlock := nextLine()
		unblock := BlockAction(name, func(any) bool { return false })
		t.Cleanup(func() { unblock() })

		var info ActionInfo
		for _, a := range Default().Actions() {
			if a.Name == name {
				info = a
			}
		}
		assert.Equal(t, ActionInfo{
			Name: name, Registered: true, Source: wantAction,
			Before:       []ListenerInfo{{Source: wantListener}},
			Replacements: 1, ReplacementSources: []string{wantLayer},
			Blocks: 1, BlockSources: []string{wantBlock},
		}, info)
	})

	t.Run("unregistered action has no source, its listeners keep theirs", func(t *testing.T) {
		r := New()
		unregister := mustRegister(t, r, "A", body)
		want := nextLine()
		r.AddListener("afterA", nop)
		require.True(t, unregister())
		assert.Equal(t, []ActionInfo{{Name: "A", After: []ListenerInfo{{Source: want}}}}, r.Actions())
	})

	t.Run("a helper of the caller's own reports the helper's line", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "A", body)
		got := r.Actions()
		require.Len(t, got, 1)
		assert.Regexp(t, `^[^/]+/helpers_test\.go:\d+$`, got[0].Source)
	})
}

func TestShortFile(t *testing.T) {
	for file, want := range map[string]string{
		"/home/me/src/contactcenter/plugin_crm.go": "contactcenter/plugin_crm.go",
		"C:/src/contactcenter/plugin_crm.go":       "contactcenter/plugin_crm.go",
		"contactcenter/plugin_crm.go":              "contactcenter/plugin_crm.go",
		"/plugin_crm.go":                           "/plugin_crm.go",
		"plugin_crm.go":                            "plugin_crm.go",
		"":                                         "",
	} {
		assert.Equal(t, want, shortFile(file), "shortFile(%q)", file)
	}
}
