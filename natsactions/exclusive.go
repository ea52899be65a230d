package natsactions

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/go-actions/actions"
	"github.com/nats-io/nats.go/jetstream"
)

// Exclusive keeps at most one body per key running across every replica:
// the cluster form of [actions.Deduplicate] with [actions.RejectPending].
// A key is claimed in a key-value bucket before the body runs and released
// after it; while one replica holds it, the others' invocations with that
// key fail with a [*ClaimedError], which matches [actions.ErrPending] (see
// "Exclusivity" in the package documentation). An Exclusive is safe for
// concurrent use and holds no goroutine of its own: each claim renews
// itself until released.
type Exclusive struct {
	js    jetstream.JetStream
	kv    jetstream.KeyValue
	o     *options
	owner []byte // the value of this Exclusive's claims: random, for the operator's eyes
}

// NewExclusive opens the claims bucket through js, creating it (with
// per-key TTLs on, see [WithTTL]) when it does not exist. It applies
// [WithBucket], [WithTTL], [WithReplicas] and [WithErrorHandler]. Every
// replica must use the same bucket and TTL. ctx bounds the set-up only.
func NewExclusive(ctx context.Context, js jetstream.JetStream, opts ...Option) (*Exclusive, error) {
	o := apply(forExclusive, opts)
	kv, err := keyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:         o.bucket,
		Description:    "claims of exclusive actions",
		History:        1,
		Storage:        jetstream.FileStorage,
		Replicas:       o.replicas,
		LimitMarkerTTL: o.ttl,
	})
	if err != nil {
		return nil, err
	}
	return &Exclusive{js: js, kv: kv, o: o, owner: []byte(rand.Text())}, nil
}

// Replace pushes a replacement on the action name of reg that claims the
// key of each invocation's payload (key receives the payload as the body
// does, after any payload update) before running the layers below it, and
// releases it once they return. It returns the replacement's remove, as
// [actions.Registry.ReplaceAction] does. Replacements pushed later run
// outside the claim: push this one last.
//
// An invocation whose key is claimed fails at the body stage: its error
// matches [actions.ErrPending] and [actions.ErrFailed] with [errors.Is];
// [actions.ErrorOf] reports Kind ErrFailed and Stage StageBody, and
// [actions.StatusOf] "failed", since the core classifies by where an error
// arose and a body's errors are failures. If the claim is lost while the
// body runs, the body's context is cancelled with [ErrClaimLost] as its
// cause; a body error then matches ErrClaimLost too, and a result that
// stands is reported to the error handler with it. A failed release leaves
// the claim to expire after its TTL; it goes to the error handler and the
// result stands.
func (x *Exclusive) Replace(reg *actions.Registry, name string, key func(payload any) string) (remove func() bool) {
	if key == nil {
		panic("natsactions: Exclusive.Replace: nil key function")
	}
	return reg.ReplaceAction(name, func(ctx context.Context, payload any, original actions.Body) (any, error) {
		return x.run(ctx, name, key(payload), func(ctx context.Context) (any, error) { return original(ctx, payload) })
	})
}

// run runs body under a claim of action's key.
func (x *Exclusive) run(ctx context.Context, action, key string, body func(context.Context) (any, error)) (any, error) {
	bctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c, err := x.claim(ctx, action, key, func() { cancel(ErrClaimLost) })
	if err != nil {
		return nil, err
	}
	res, err := body(bctx)
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), x.o.ttl)
	defer rcancel()
	rerr := c.Release(rctx)
	switch {
	case errors.Is(rerr, ErrClaimLost) && err != nil:
		return nil, fmt.Errorf("%w: %w", ErrClaimLost, err)
	case rerr != nil:
		x.o.errorHandler(ctx, rerr)
	}
	return res, err
}

// Claim claims key of action for the caller, who must call
// [Claim.Release] once done: it is what [Exclusive.Replace] does around a
// body, for code that is not an action. A key already claimed fails with a
// [*ClaimedError]. The claim renews itself every third of the TTL until
// released. Its cost is one round trip to the bucket's leader, and one per
// renewal.
func (x *Exclusive) Claim(ctx context.Context, action, key string) (*Claim, error) {
	return x.claim(ctx, action, key, nil)
}

func (x *Exclusive) claim(ctx context.Context, action, key string, onLost func()) (*Claim, error) {
	k := token(action) + "." + token(key)
	rev, err := x.kv.Create(ctx, k, x.owner, jetstream.KeyTTL(x.o.ttl))
	// After a release the key's last message is a delete marker, and Create
	// writes over it expecting its revision: two replicas racing there, the
	// loser's error is the bare "wrong last sequence", not ErrKeyExists.
	if errors.Is(err, jetstream.ErrKeyExists) || wrongLastSequence(err) {
		return nil, &ClaimedError{Action: action, Key: key}
	}
	if err != nil {
		return nil, fmt.Errorf("natsactions: %s: claim of key %q: %w", action, key, err)
	}
	return newClaim(x, action, key, k, rev, onLost), nil
}
