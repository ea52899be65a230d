package actions

// block is one registration of BlockAction.
type block struct {
	match func(payload any) bool // nil matches every payload
	site  site                   // where it was placed, "dir/file.go:line" (see ActionInfo.BlockSources)
}

// BlockAction blocks the invocations of the action name whose payload (as the
// caller passed it) match reports true for: they fail with [ErrBlocked] and
// nothing of theirs runs. A nil match blocks every invocation. The action need
// not be registered. It returns a function that removes exactly this block,
// reporting whether it did. A panic in match fails the invocation.
//
// An empty name panics: it is a programmer error.
func (r *Registry) BlockAction(name string, match func(payload any) bool) (unblock func() bool) {
	return r.block(name, match, callerSite(0))
}

// block places a block on behalf of the caller, whose call was made at the site at.
func (r *Registry) block(name string, match func(payload any) bool, at site) (unblock func() bool) {
	if name == "" {
		setupPanic("BlockAction: empty action name")
	}
	b := &block{match: match, site: at}
	r.write(name, func(s *snapshot) bool {
		s.blocks = append(s.blocks[:len(s.blocks):len(s.blocks)], b)
		return true
	})
	return func() bool {
		return r.write(name, func(s *snapshot) bool {
			var ok bool
			s.blocks, ok = without(s.blocks, func(x *block) bool { return x == b })
			return ok
		})
	}
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
			return &Error{Action: f.name, Kind: ErrBlocked}
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
