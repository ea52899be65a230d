package actions_test

import (
	"context"
	"sync"
	"testing"

	"github.com/go-actions/actions"
)

// BenchmarkPlugin states what plugins cost on the invoke path (see "Plugins"
// in the package documentation), each row chain1:
//
//   - plain: the listeners added outside plugins (BenchmarkInvoke's row);
//   - listeners: the same listeners, a plugin's;
//   - other: plain, next to a plugin installed on another action (unused:
//     it must cost nothing);
//   - reloading: the plugin's listeners while another goroutine installs a
//     new version of the plugin again and again; unpaired/op is the share of
//     invocations whose after phase did not run the plugin (a reload came
//     between their start and their after phase).
func BenchmarkPlugin(b *testing.B) {
	install := func(tb testing.TB, reg *actions.Registry, name string) {
		p := reg.Plugin("timing")
		p.AddListener("before"+name, benchBefore)
		p.AddListener("after"+name, benchAfter)
		if _, err := p.Install(); err != nil {
			tb.Fatal(err)
		}
	}
	pluginChain := func(tb testing.TB) *actions.Registry {
		reg := actions.New()
		addBenchAction(tb, reg, benchAction, scBare)
		install(tb, reg, benchAction)
		return reg
	}
	cases := []struct {
		name   string
		build  func(tb testing.TB) *actions.Registry
		reload bool
	}{
		{name: "plain", build: func(tb testing.TB) *actions.Registry { return newBenchRegistry(tb, scChain1) }},
		{name: "listeners", build: pluginChain},
		{name: "other", build: func(tb testing.TB) *actions.Registry {
			reg := newBenchRegistry(tb, scChain1)
			addBenchAction(tb, reg, "Other", scBare)
			install(tb, reg, "Other")
			return reg
		}},
		{name: "reloading", build: pluginChain, reload: true},
	}
	for _, c := range cases {
		b.Run("case="+c.name, func(b *testing.B) {
			reg := c.build(b)
			if c.reload {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
							install(b, reg, benchAction)
						}
					}
				})
				defer func() { close(stop); wg.Wait() }()
			}
			if !c.reload {
				runSync(b, scChain1, func(ctx context.Context, p *benchPayload) error {
					_, err := reg.Call(ctx, benchAction, p)
					return err
				})
				return
			}
			// Under reloads an invocation that began before one runs
			// neither version's listeners in the phases after it: the
			// counts are reported, not checked.
			p := new(benchPayload)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reg.Call(context.Background(), benchAction, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(int64(b.N)-p.after)/float64(b.N), "unpaired/op")
		})
	}
}
