package actions

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// timingPlugin is a plugin of version v whose before- and after-listeners on
// Act record which version ran for each payload (an int, one per
// invocation), and whose after-listener reports a split pair: an after run
// of one version for an invocation whose before ran another, or none.
type timingPlugin struct {
	before   sync.Map // payload -> version whose before ran
	splits   atomic.Int64
	befores  atomic.Int64
	afters   atomic.Int64
	lastSeen atomic.Value
}

func (tp *timingPlugin) build(r *Registry, v int) *Plugin {
	p := r.Plugin("timing")
	p.AddListener("beforeAct", func(_ context.Context, payload any) error {
		tp.before.Store(payload, v)
		tp.befores.Add(1)
		return nil
	})
	p.AddListener("afterAct", func(_ context.Context, payload any) error {
		tp.afters.Add(1)
		if got, ok := tp.before.Load(payload); !ok || got != v {
			tp.splits.Add(1)
			tp.lastSeen.Store(fmt.Sprintf("payload %v: after of v%d, before of %v", payload, v, got))
		}
		return nil
	})
	return p
}

// listenP, bodyP and layerP record their tag and the payload, "tag(p)".
func (r *recorder) listenP(tag string, err error) Listener {
	return func(_ context.Context, p any) error {
		r.add(fmt.Sprintf("%s(%v)", tag, p))
		return err
	}
}

func (r *recorder) bodyP(tag string, res any) Body {
	return func(_ context.Context, p any) (any, error) {
		r.add(fmt.Sprintf("%s(%v)", tag, p))
		return res, nil
	}
}

func (r *recorder) layerP(tag string) Replacement {
	return func(ctx context.Context, p any, original Body) (any, error) {
		r.add(fmt.Sprintf("%s(%v)", tag, p))
		return original(ctx, p)
	}
}

func TestPlugin(t *testing.T) {
	t.Run("Plugins_install_publishes_every_registration_and_unload_removes_them", func(t *testing.T) {
		r := New()
		var rec recorder
		p := r.Plugin("crm")
		p.RegisterAction("Act", rec.bodyP("body", "ok"))
		p.AddListener("beforeAct", rec.listenP("before", nil), Named("lookup"))
		p.AddListener("afterAct", rec.listenP("after", nil))
		p.ReplaceAction("Act", rec.layerP("layer"))
		p.DeduplicateAction("Act", func(any) string { return "k" }, RejectPending)
		assert.False(t, r.Registered("Act"), "nothing takes effect before Install")
		assert.Empty(t, r.Plugins())

		unload, err := p.Install()
		require.NoError(t, err)
		assert.Equal(t, []string{"crm"}, r.Plugins())
		res, err := r.Call(context.Background(), "Act", 1)
		require.NoError(t, err)
		assert.Equal(t, "ok", res)
		assert.Equal(t, "before(1) layer(1) body(1) after(1)", rec.trace())

		info := r.Actions()
		require.Len(t, info, 1)
		assert.Equal(t, "crm", info[0].Plugin)
		assert.Equal(t, []string{"crm"}, info[0].Plugins)
		assert.True(t, info[0].Deduplicates)
		assert.Equal(t, "crm", r.Listeners("beforeAct")[0].Plugin)

		assert.True(t, unload())
		assert.False(t, unload(), "unload removes exactly once")
		assert.False(t, r.Registered("Act"))
		assert.Empty(t, r.Actions(), "nothing of the plugin is left")
		assert.Empty(t, r.Plugins())
		_, err = r.Call(context.Background(), "Act", 2)
		assert.ErrorIs(t, err, ErrActionNotFound)
	})

	t.Run("Plugins_registrations_outside_the_plugin_are_untouched", func(t *testing.T) {
		r := New()
		var rec recorder
		mustRegister(t, r, "Act", rec.bodyP("body", nil))
		r.AddListener("beforeAct", rec.listenP("host", nil))
		p := r.Plugin("extra")
		p.AddListener("beforeAct", rec.listenP("plugin", nil))
		unload, err := p.Install()
		require.NoError(t, err)
		_, err = r.Call(context.Background(), "Act", 1)
		require.NoError(t, err)
		assert.True(t, unload())
		_, err = r.Call(context.Background(), "Act", 2)
		require.NoError(t, err)
		assert.Equal(t, "host(1) plugin(1) body(1) host(2) body(2)", rec.trace())
		assert.Empty(t, r.Actions()[0].Plugins)
	})

	t.Run("Plugins_installing_a_plugin_of_the_same_name_replaces_it_in_one_step", func(t *testing.T) {
		r := New()
		var rec recorder
		v1 := r.Plugin("greeter")
		v1.RegisterAction("Greet", rec.bodyP("v1", "hello"))
		v1.AddListener("afterGreet", rec.listenP("v1after", nil))
		unload1, err := v1.Install()
		require.NoError(t, err)

		v2 := r.Plugin("greeter")
		v2.RegisterAction("Greet", rec.bodyP("v2", "hi"))
		unload2, err := v2.Install()
		require.NoError(t, err, "the new version's action replaces the old one's, not a conflict")
		res, err := r.Call(context.Background(), "Greet", 1)
		require.NoError(t, err)
		assert.Equal(t, "hi", res)
		assert.Equal(t, "v2(1)", rec.trace(), "nothing of v1 is left")
		assert.False(t, unload1(), "v1 was replaced: its unload removes nothing")
		assert.True(t, r.Registered("Greet"))
		assert.True(t, unload2())
		assert.False(t, r.Registered("Greet"))
	})

	t.Run("Plugins_a_plugin_installed_again_republishes_what_it_has", func(t *testing.T) {
		r := New()
		var rec recorder
		p := r.Plugin("p")
		p.RegisterAction("Act", rec.bodyP("body", nil))
		first, err := p.Install()
		require.NoError(t, err)
		p.AddListener("beforeAct", rec.listenP("late", nil))
		_, err = r.Call(context.Background(), "Act", 1)
		require.NoError(t, err)
		second, err := p.Install()
		require.NoError(t, err)
		_, err = r.Call(context.Background(), "Act", 2)
		require.NoError(t, err)
		assert.Equal(t, "body(1) late(2) body(2)", rec.trace())
		assert.False(t, first())
		assert.True(t, second())
		assert.False(t, r.Registered("Act"))
	})

	t.Run("Plugins_a_conflict_fails_Install_and_changes_nothing", func(t *testing.T) {
		r := New()
		var rec recorder
		mustRegister(t, r, "Act", rec.bodyP("host", nil))
		p := r.Plugin("intruder")
		p.AddListener("beforeAct", rec.listenP("plugin", nil))
		p.RegisterAction("Other", rec.bodyP("other", nil))
		p.RegisterAction("Act", rec.bodyP("theirs", nil))
		unload, err := p.Install()
		require.Error(t, err)
		assert.Nil(t, unload)
		assert.ErrorIs(t, err, ErrAlreadyRegistered)
		e := ErrorOf(err)
		require.NotNil(t, e)
		assert.Equal(t, "intruder", e.Plugin)
		assert.Equal(t, `actions: Act: action already registered (plugin "intruder")`, err.Error())
		assert.False(t, r.Registered("Other"), "no part of the plugin was published")
		assert.Empty(t, r.Listeners("beforeAct"))
		assert.Empty(t, r.Plugins())
		_, err = r.Call(context.Background(), "Act", 1)
		require.NoError(t, err)
		assert.Equal(t, "host(1)", rec.trace())
	})

	t.Run("Plugins_typed_handles_register_through_In", func(t *testing.T) {
		r := New()
		act := Typed[int, string](r, "Format")
		p := r.Plugin("fmt")
		unreg, err := act.In(p).Register(func(_ context.Context, n int) (string, error) { return fmt.Sprint(n), nil })
		require.NoError(t, err, "errors of a plugin's registrations come from Install")
		assert.False(t, unreg(), "a plugin's registrations are removed with it")
		act.In(p).Before(func(_ context.Context, n int) error {
			if n < 0 {
				return Abort(errors.New("negative"))
			}
			return nil
		}, Named("sign"))
		assert.False(t, r.Registered("Format"))
		unload, err := p.Install()
		require.NoError(t, err)
		s, err := act.Call(context.Background(), 7)
		require.NoError(t, err)
		assert.Equal(t, "7", s)
		_, err = act.Call(context.Background(), -1)
		assert.ErrorIs(t, err, ErrAborted)
		assert.Equal(t, "fmt", ErrorOf(err).Plugin)
		assert.Equal(t, `actions: Format: action aborted in before phase by listener "sign" (plugin "fmt"): negative`, err.Error())
		assert.True(t, unload())

		wrong := r.Plugin("wrong")
		Typed[string, string](r, "Format").In(wrong).Before(func(context.Context, string) error { return nil })
		_, err = p.Install()
		require.NoError(t, err)
		_, err = wrong.Install()
		assert.ErrorIs(t, err, ErrPayloadType, "a misfit is Install's error, not a panic at run time")
		assert.Equal(t, "wrong", ErrorOf(err).Plugin)
		assert.Equal(t, []string{"fmt"}, r.Plugins())
	})

	t.Run("Plugins_unload_after_its_once_listener_ran_and_its_name_was_forgotten", func(t *testing.T) {
		r := New()
		var rec recorder
		mustRegister(t, r, "Act", rec.bodyP("body", nil))
		p := r.Plugin("welcome")
		p.AddListener("beforeOnly", rec.listenP("once", nil), Once())
		p.AddListener("beforeAct", rec.listenP("greet", nil))
		unload, err := p.Install()
		require.NoError(t, err)
		unregister := mustRegister(t, r, "Only", rec.bodyP("only", nil))
		_, err = r.Call(context.Background(), "Only", 1)
		require.NoError(t, err)
		assert.Empty(t, r.Listeners("beforeOnly"), "the once-listener ran and was removed")
		unregister() // nothing is left under Only: the name is forgotten
		runtime.GC()
		runtime.GC()
		assert.True(t, unload(), "unload copes with a name whose registrations are gone")
		_, err = r.Call(context.Background(), "Act", 2)
		require.NoError(t, err)
		assert.Equal(t, "once(1) only(1) body(2)", rec.trace())
	})

	t.Run("Plugins_In_with_a_plugin_of_another_registry_panics", func(t *testing.T) {
		msg := setupPanicMessage(t, "In", func() { Typed[int, int](New(), "A").In(New().Plugin("p")) })
		assert.Contains(t, msg, "another registry")
		msg = setupPanicMessage(t, "Plugin", func() { New().Plugin("") })
		assert.Contains(t, msg, "empty plugin name")
	})

	t.Run("Plugins_observers_come_and_go_with_the_plugin", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return nil, nil })
		spy := &spyObserver{}
		p := r.Plugin("metrics")
		p.AddObserver(spy)
		unload, err := p.Install()
		require.NoError(t, err)
		_, _ = r.Call(context.Background(), "Act", 1)
		unload()
		_, _ = r.Call(context.Background(), "Act", 2)
		assert.Equal(t, "begin end", spy.kinds(1))
		assert.Empty(t, spy.kinds(2))
	})

	t.Run("Plugins_an_invocation_that_began_before_Install_runs_none_of_the_plugin", func(t *testing.T) {
		for _, conc := range []bool{false, true} {
			t.Run(fmt.Sprintf("concurrent=%v", conc), func(t *testing.T) {
				r := New()
				var rec recorder
				inBody, release := make(chan struct{}), make(chan struct{})
				mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) {
					rec.add(fmt.Sprintf("body(%v)", p))
					if p == 1 {
						close(inBody)
						<-release
					}
					return nil, nil
				}, Concurrent(conc))
				fut := r.InvokeAction(context.Background(), "Act", 1)
				<-inBody
				p := r.Plugin("late")
				p.AddListener("afterAct", rec.listenP("after", nil))
				p.AddListener("afterAct", rec.listenP("after2", nil))
				_, err := p.Install()
				require.NoError(t, err)
				close(release)
				_, err = fut.Result()
				require.NoError(t, err)
				_, err = r.Call(context.Background(), "Act", 2)
				require.NoError(t, err)
				assert.Equal(t, "after(2) after2(2) body(1) body(2)", rec.sorted(), "listeners of a concurrent phase run in any order")
				assert.NotContains(t, rec.trace(), "(1) after", "nothing of the plugin ran for invocation 1")
			})
		}
	})

	t.Run("Plugins_a_removed_plugin_runs_in_no_phase_that_starts_after_the_removal", func(t *testing.T) {
		r := New()
		var rec recorder
		inBody, release := make(chan struct{}), make(chan struct{})
		mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) {
			rec.add("body")
			close(inBody)
			<-release
			return nil, nil
		})
		p := r.Plugin("gone")
		p.AddListener("beforeAct", rec.listenP("before", nil))
		p.AddListener("afterAct", rec.listenP("after", nil))
		unload, err := p.Install()
		require.NoError(t, err)
		fut := r.InvokeAction(context.Background(), "Act", 1)
		<-inBody
		require.True(t, unload())
		close(release)
		_, err = fut.Result()
		require.NoError(t, err)
		assert.Equal(t, "before(1) body", rec.trace(), "the after phase started after the removal")
	})

	t.Run("Plugins_the_replacements_of_a_plugin_installed_later_are_not_run", func(t *testing.T) {
		r := New()
		var rec recorder
		inBefore, release := make(chan struct{}), make(chan struct{})
		mustRegister(t, r, "Act", rec.bodyP("body", nil))
		r.AddListener("beforeAct", func(context.Context, any) error {
			close(inBefore)
			<-release
			return nil
		})
		fut := r.InvokeAction(context.Background(), "Act", 1)
		<-inBefore
		p := r.Plugin("wrap")
		p.ReplaceAction("Act", rec.layerP("layer"))
		_, err := p.Install()
		require.NoError(t, err)
		close(release)
		_, err = fut.Result()
		require.NoError(t, err)
		assert.Equal(t, "body(1)", rec.trace())
	})

	t.Run("Plugins_failures_of_a_plugin_s_listeners_name_it", func(t *testing.T) {
		sink := &errorSink{}
		r := New(WithErrorHandler(sink.handle))
		mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return "ok", nil })
		p := r.Plugin("crm")
		p.AddListener("afterAct", func(context.Context, any) error { return errors.New("crm down") }, Named("sync"))
		p.AddListener("beforeAct", func(_ context.Context, x any) error {
			if x == "fail" {
				return errors.New("bad input")
			}
			return nil
		}, Named("check"))
		_, err := p.Install()
		require.NoError(t, err)
		_, err = r.Call(context.Background(), "Act", "fail")
		assert.Equal(t, `actions: Act: action failed in before phase by listener "check" (plugin "crm"): bad input`, err.Error())
		_, err = r.Call(context.Background(), "Act", "ok")
		require.NoError(t, err)
		errs := sink.all()
		require.Len(t, errs, 1)
		assert.Equal(t, `actions: Act: after-listener "sync" failed (plugin "crm"): crm down`, errs[0].Error())
		assert.Equal(t, "crm", ErrorOf(errs[0]).Plugin)
	})

	t.Run("Plugins_block_reasons_name_the_plugin", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "Reindex", func(context.Context, any) (any, error) { return nil, nil })
		reason := errors.New("maintenance until 02:00")
		p := r.Plugin("maintenance")
		p.BlockAction("Reindex", nil, Reason(reason))
		unload, err := p.Install()
		require.NoError(t, err)
		_, err = r.Call(context.Background(), "Reindex", nil)
		assert.ErrorIs(t, err, ErrBlocked)
		assert.ErrorIs(t, err, reason)
		e := ErrorOf(err)
		require.NotNil(t, e)
		assert.Equal(t, "maintenance", e.Plugin)
		assert.Equal(t, `actions: Reindex: action blocked (plugin "maintenance"): maintenance until 02:00`, err.Error())
		assert.Equal(t, []string{"maintenance"}, r.Actions()[0].Plugins)
		unload()
		_, err = r.Call(context.Background(), "Reindex", nil)
		assert.NoError(t, err)
	})

	t.Run("Plugins_no_split_pair_under_racing_reloads", func(t *testing.T) {
		// A timing plugin reloaded (v1, v2, ...) as fast as it can while 8
		// goroutines invoke: every after-run of a version belongs to an
		// invocation whose before ran that same version.
		r := New()
		mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return nil, nil })
		var tp timingPlugin
		stop := make(chan struct{})
		var reloads atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() {
			for v := 1; ; v++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := tp.build(r, v).Install(); err != nil {
					t.Error(err)
					return
				}
				reloads.Add(1)
				if v%7 == 0 { // now and then none is installed for a while
					for _, n := range r.Plugins() {
						assert.Equal(t, "timing", n)
					}
				}
			}
		})
		var next atomic.Int64
		for range 8 {
			wg.Go(func() {
				for range 2000 {
					if _, err := r.Call(context.Background(), "Act", int(next.Add(1))); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		for next.Load() < 16000 {
			time.Sleep(time.Millisecond)
		}
		close(stop)
		wg.Wait()
		assert.Zero(t, tp.splits.Load(), "split pairs, e.g. %v", tp.lastSeen.Load())
		assert.Positive(t, tp.afters.Load(), "the plugin ran")
		assert.Greater(t, reloads.Load(), int64(100), "reloads raced the invocations")
		t.Logf("%d reloads, %d befores, %d afters across 16000 invocations", reloads.Load(), tp.befores.Load(), tp.afters.Load())
	})
}
