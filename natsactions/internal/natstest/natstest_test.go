package natstest_test

import (
	"time"

	"testing"

	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
)

func TestServerRequestReply(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Run("one", func(t *testing.T) {
		s := natstest.Server(t)
		nc := natstest.Connect(t, s.ClientURL())
		sub, err := nc.Subscribe("echo", func(m *nats.Msg) { _ = m.Respond(m.Data) })
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		m, err := nc.Request("echo", []byte("hi"), 5*time.Second)
		if err != nil || string(m.Data) != "hi" {
			t.Fatalf("got %v, %v", m, err)
		}
	})
}

func TestClusterReplicatedStream(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Run("three", func(t *testing.T) {
		nodes := natstest.Cluster(t, 3)
		if len(nodes) != 3 {
			t.Fatalf("%d nodes", len(nodes))
		}
		for _, n := range nodes {
			nc := natstest.Connect(t, n.ClientURL())
			if !nc.IsConnected() {
				t.Fatalf("%s: not connected", n.Name())
			}
		}
	})
}
