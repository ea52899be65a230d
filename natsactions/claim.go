package natsactions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Claim is a key held in an [Exclusive]'s bucket, renewed by a goroutine
// of its own until [Claim.Release]. It is safe for concurrent use.
type Claim struct {
	// Action and Key are what was claimed.
	Action, Key string

	x      *Exclusive
	subj   string // the key's subject in the bucket's stream
	kvKey  string
	onLost func()

	stop, done chan struct{} // stop: Release asks the renewer to end; done: it has
	lost       chan struct{} // closed when the claim is known lost
	// rev is the revision of the claim's latest message: written by the
	// renewer, read by Release after done is closed.
	rev     uint64
	release sync.Once
	err     error // Release's result, written once under release
}

func newClaim(x *Exclusive, action, key, kvKey string, rev uint64, onLost func()) *Claim {
	c := &Claim{
		Action: action, Key: key, x: x, kvKey: kvKey, subj: "$KV." + x.o.bucket + "." + kvKey, onLost: onLost, rev: rev,
		stop: make(chan struct{}), done: make(chan struct{}), lost: make(chan struct{}),
	}
	go c.renew()
	return c
}

// Lost returns a channel closed when the claim is known to be lost: a
// renewal found it expired or taken, or none succeeded for a whole TTL.
func (c *Claim) Lost() <-chan struct{} { return c.lost }

// renew renews the claim every third of the TTL, until Release or until the
// claim is lost. The KV API has no renewal: it republishes the claim's
// value on its subject, expecting the claim's own revision as the
// subject's last (so that a claim taken by another in the meantime is not
// overwritten), with a fresh TTL.
func (c *Claim) renew() {
	defer close(c.done)
	ttl := c.x.o.ttl
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
		ack, err := c.x.js.Publish(ctx, c.subj, c.x.owner, jetstream.WithExpectLastSequencePerSubject(c.rev), jetstream.WithMsgTTL(ttl))
		cancel()
		switch {
		case err == nil:
			c.rev, renewed = ack.Sequence, time.Now()
			continue
		case wrongLastSequence(err), time.Since(renewed) >= ttl:
			c.x.o.errorHandler(context.Background(), fmt.Errorf("%w: %s: key %q: %w", ErrClaimLost, c.Action, c.Key, err))
			close(c.lost)
			if c.onLost != nil {
				c.onLost()
			}
			return
		}
		// Another error (a timeout, a reconnection): the claim holds until
		// its TTL runs out; try again at the next tick.
	}
}

// Release ends the claim: it stops renewing and deletes the key if it is
// still this claim's, so that another invocation may claim it at once. A
// claim already lost is not deleted (it may be another's now): Release
// returns an error matching [ErrClaimLost]. Calls after the first return
// the first's result.
func (c *Claim) Release(ctx context.Context) error {
	c.release.Do(func() {
		close(c.stop)
		<-c.done
		select {
		case <-c.lost:
			c.err = fmt.Errorf("%w: %s: key %q", ErrClaimLost, c.Action, c.Key)
			return
		default:
		}
		if err := c.x.kv.Delete(ctx, c.kvKey, jetstream.LastRevision(c.rev)); err != nil {
			c.err = fmt.Errorf("natsactions: %s: release of key %q (it expires after its TTL): %w", c.Action, c.Key, err)
		}
	})
	return c.err
}

// wrongLastSequence reports whether err is the server's refusal of a
// publish whose expected last sequence did not match: 10071, or 10164 from
// a replicated stream.
func wrongLastSequence(err error) bool {
	var api *jetstream.APIError
	return errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
