package main

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
)

// store stands in for the task database the replicas share: each task's
// status by SID, "reserved" until a replica assigns it. It is safe for
// concurrent use.
type store struct {
	mu     sync.Mutex        // guards status
	status map[string]string // by SID
}

func (s *store) offer(sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status[sid] = "reserved"
}

// confirmReserved is the replicas' before-listener: a task no longer
// reserved (a second click on Accept, say) is aborted before the body runs,
// whichever replica took the first.
func (s *store) confirmReserved(_ context.Context, sid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.status[sid]; st != "reserved" {
		return actions.Abort(fmt.Errorf("%s is %s, not reserved", sid, st))
	}
	return nil
}

// assign is AcceptTask's body. It checks and moves the status in one step:
// two replicas racing for one task cannot both assign it.
func (s *store) assign(_ context.Context, sid string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.status[sid]; st != "reserved" {
		return "", fmt.Errorf("%s is %s, not reserved", sid, st)
	}
	s.status[sid] = "assigned"
	return "assigned", nil
}

// replica is one process of the task service: its own connection and
// registry, AcceptTask (payload: the task's SID) served in the queue group,
// a publisher of its events and its view of the cluster-wide blocks.
type replica struct {
	name   string
	reg    *actions.Registry
	srv    *natsactions.Server
	blocks *natsactions.Blocks
}

// startReplica starts a replica. What it starts is added to down, to be
// shut down in reverse: the server, the blocks, the registry, then the
// publisher (after the registry, so that every event is queued) and the
// connection.
func startReplica(ctx context.Context, name, url string, st *store, down *closers) (*replica, error) {
	nc, js, err := connect(url, name, down)
	if err != nil {
		return nil, err
	}
	pub, err := natsactions.NewPublisher(ctx, js, natsactions.WithSource(name), natsactions.WithActions("AcceptTask"))
	if err != nil {
		return nil, err
	}
	down.add(pub.Close)
	r := &replica{name: name, reg: actions.New(actions.WithObserver(pub))}
	down.add(r.reg.Close)
	accept := actions.Typed[string, string](r.reg, "AcceptTask")
	accept.Before(st.confirmReserved, actions.Named("confirm-reserved"))
	if _, err := accept.Register(st.assign); err != nil {
		return nil, err
	}
	if r.blocks, err = natsactions.NewBlocks(ctx, js, r.reg); err != nil {
		return nil, err
	}
	down.add(func(context.Context) error { return r.blocks.Close() })
	if r.srv, err = natsactions.NewServer(nc, r.reg); err != nil {
		return nil, err
	}
	down.add(r.srv.Close)
	return r, natsactions.ServeTyped(r.srv, accept)
}

// blocked reports whether a block holds AcceptTask on this replica.
func (r *replica) blocked() bool {
	infos := r.reg.Actions()
	i := slices.IndexFunc(infos, func(a actions.ActionInfo) bool { return a.Name == "AcceptTask" })
	return i >= 0 && infos[i].Blocks > 0
}
