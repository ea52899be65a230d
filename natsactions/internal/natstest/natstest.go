// Package natstest starts real NATS servers in-process, on loopback and
// random ports, with JetStream stored in a folder of the caller's: the
// module's tests, benchmarks and example run against them with nothing
// installed.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// readyWithin bounds how long a server may take to accept connections.
const readyWithin = 10 * time.Second

// Start starts one server named name with JetStream storing under dir, and
// returns it once it accepts connections. The caller shuts it down.
func Start(name, dir string) (*server.Server, error) {
	return start(&server.Options{ServerName: name, StoreDir: dir})
}

// start completes opts (loopback, a random port, JetStream, no logging, no
// signal handlers) and starts the server.
func start(opts *server.Options) (*server.Server, error) {
	opts.Host, opts.Port = "127.0.0.1", -1
	opts.JetStream, opts.NoLog, opts.NoSigs = true, true, true
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natstest: %s: %w", opts.ServerName, err)
	}
	s.Start()
	if !s.ReadyForConnections(readyWithin) {
		s.Shutdown()
		return nil, fmt.Errorf("natstest: %s: not ready within %v", opts.ServerName, readyWithin)
	}
	return s, nil
}

// Server starts one server for t, shut down when t ends.
func Server(t testing.TB) *server.Server {
	t.Helper()
	s, err := Start("n1", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// StartCluster starts a JetStream cluster of n servers (n ≥ 2) under
// folders of dir and returns them once each accepts connections; JetStream
// may still be electing its leader (see WaitJetStream). The caller shuts
// them down.
//
// The first node's cluster listener needs a port known before it starts (a
// JetStream cluster needs configured routes, and the first node routes to
// itself): one is reserved by listening on port 0 and closing.
func StartCluster(dir string, n int) ([]*server.Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	seed, _ := url.Parse(fmt.Sprintf("nats://127.0.0.1:%d", port))
	var nodes []*server.Server
	for i := 1; i <= n; i++ {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i),
			StoreDir:   fmt.Sprintf("%s/n%d", dir, i),
			Routes:     []*url.URL{seed},
		}
		opts.Cluster.Name, opts.Cluster.Host, opts.Cluster.Port = "actions", "127.0.0.1", -1
		if i == 1 {
			opts.Cluster.Port = port
		}
		s, err := start(opts)
		if err != nil {
			for _, s := range nodes {
				s.Shutdown()
			}
			return nil, err
		}
		nodes = append(nodes, s)
	}
	return nodes, nil
}

// Cluster starts a cluster of n servers for t, shut down when t ends, and
// waits until JetStream can create a stream replicated on all of them.
func Cluster(t testing.TB, n int) []*server.Server {
	t.Helper()
	nodes, err := StartCluster(t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range nodes {
			s.Shutdown()
			s.WaitForShutdown()
		}
	})
	if err := WaitJetStream(nodes[0].ClientURL(), n, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return nodes
}

// URLs returns the client URLs of nodes, comma-separated, as nats.Connect
// takes them.
func URLs(nodes []*server.Server) string {
	s := ""
	for i, n := range nodes {
		if i > 0 {
			s += ","
		}
		s += n.ClientURL()
	}
	return s
}

// WaitJetStream waits until a stream with the given number of replicas can
// be created through the server at url (JetStream has a leader and enough
// peers), then deletes it. Before that, stream creation gets no reply or
// "no suitable peers": it is retried with short attempts.
func WaitJetStream(url string, replicas int, within time.Duration) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := nc.JetStream(nats.MaxWait(250 * time.Millisecond))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(within)
	for {
		_, err = js.AddStream(&nats.StreamConfig{Name: "natstest_ready", Subjects: []string{"natstest.ready"}, Replicas: replicas, Storage: nats.MemoryStorage})
		if err == nil {
			return js.DeleteStream("natstest_ready")
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("natstest: JetStream not ready within %v", within), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Connect connects to url for t, closed when t ends.
func Connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
