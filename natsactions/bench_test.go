package natsactions_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/nats-io/nats.go"
)

// BenchmarkRemote compares, on one embedded server in one run, a bare NATS
// request to a queue subscriber that echoes with a remote invocation of an
// action that echoes: the difference is this module's cost.
func BenchmarkRemote(b *testing.B) {
	s := natstest.Server(b)
	serveNC, useNC := natstest.Connect(b, s.ClientURL()), natstest.Connect(b, s.ClientURL())
	sub, err := serveNC.QueueSubscribe("bare.echo", "q", func(m *nats.Msg) { _ = m.Respond(m.Data) })
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	reg := actions.New()
	if _, err := reg.RegisterAction("Echo", func(_ context.Context, p any) (any, error) { return p, nil }); err != nil {
		b.Fatal(err)
	}
	echoTyped := actions.Typed[string, string](reg, "EchoTyped")
	if _, err := echoTyped.Register(func(_ context.Context, p string) (string, error) { return p, nil }); err != nil {
		b.Fatal(err)
	}
	srv := serveBench(b, serveNC, reg, "Echo")
	if err := natsactions.ServeTyped(srv, echoTyped); err != nil {
		b.Fatal(err)
	}
	c := natsactions.NewClient(useNC)
	payload := []byte(`"WT0001"`)
	ctx := context.Background()

	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := useNC.Request("bare.echo", payload, 5*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("invoke", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Call(ctx, "Echo", "WT0001"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("typed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := natsactions.CallTyped[string, string](ctx, c, "EchoTyped", "WT0001"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRemoteReplicas measures throughput under RunParallel with one
// replica and with three, each on its own connection, for a body that
// waits 1 ms (work that is not CPU: a database, another service).
func BenchmarkRemoteReplicas(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			s := natstest.Server(b)
			for range replicas {
				reg := actions.New()
				if _, err := reg.RegisterAction("Wait", func(_ context.Context, p any) (any, error) {
					time.Sleep(time.Millisecond)
					return p, nil
				}); err != nil {
					b.Fatal(err)
				}
				serveBench(b, natstest.Connect(b, s.ClientURL()), reg, "Wait", natsactions.WithConcurrency(8))
			}
			c := natsactions.NewClient(natstest.Connect(b, s.ClientURL()))
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Call(context.Background(), "Wait", "WT0001"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func serveBench(b *testing.B, nc *nats.Conn, reg *actions.Registry, name string, opts ...natsactions.Option) *natsactions.Server {
	srv, err := natsactions.NewServer(nc, reg, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Stop(context.Background()) })
	if err := srv.Serve(name); err != nil {
		b.Fatal(err)
	}
	return srv
}
