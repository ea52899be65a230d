package actions

// block is one registration of BlockAction.
type block struct {
	match  func(payload any) bool // nil matches every payload
	reason error                  // given with Reason, nil for none
	site   site                   // where it was placed, "dir/file.go:line" (see ActionInfo.BlockSources)
	owner  *Plugin                // the plugin that placed it, if any
}

// BlockOption configures a block at [Registry.BlockAction].
type BlockOption func(*block)

// Reason gives the block a reason: the [*Error] of an invocation it blocks
// wraps it (Err), so that [errors.Is] and [errors.As] reach it and the
// message tells it ("actions: Reindex: action blocked: maintenance until
// 02:00"). The default is none.
func Reason(reason error) BlockOption { return func(b *block) { b.reason = reason } }

// BlockAction blocks the invocations of the action name whose payload (as the
// caller passed it) match reports true for: they fail with [ErrBlocked] and
// nothing of theirs runs; the error wraps the block's [Reason], if it has
// one, and names the plugin that placed it ([Error.Plugin]), if any. A nil
// match blocks every invocation. The action need not be registered. It
// returns a function that removes exactly this block, reporting whether it
// did. A panic in match fails the invocation.
//
// An empty name panics: it is a programmer error.
func (r *Registry) BlockAction(name string, match func(payload any) bool, opts ...BlockOption) (unblock func() bool) {
	return r.block(name, newBlock(match, opts, callerSite(0)))
}

func newBlock(match func(payload any) bool, opts []BlockOption, at site) *block {
	b := &block{match: match, site: at}
	for _, o := range opts {
		o(b)
	}
	return b
}

// block places b on name.
func (r *Registry) block(name string, b *block) (unblock func() bool) {
	if name == "" {
		setupPanic("BlockAction: empty action name")
	}
	return attach(r, name, func(s *snapshot) *[]*block { return &s.blocks }, b)
}

// checkBlocks is step 3: a block whose match accepts the payload (as the
// caller passed it) fails the invocation.
func (f *frame) checkBlocks(blocks []*block, payload any) error {
	for _, b := range blocks {
		blocked, err := f.match(b, payload)
		if err != nil {
			return fail(f.name, StageBlock, "", err)
		}
		if blocked {
			return &Error{Action: f.name, Kind: ErrBlocked, Err: b.reason, Plugin: b.owner.nameOf()}
		}
	}
	return nil
}

// match runs a block's match function, guarded.
func (f *frame) match(b *block, payload any) (ok bool, err error) {
	if b.match == nil {
		return true, nil
	}
	f.enter(StageBlock)
	var g guard
	defer g.recover(&err)
	ok = b.match(payload)
	g.returned = true
	return ok, nil
}
