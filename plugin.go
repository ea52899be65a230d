package actions

import (
	"errors"
	"slices"
	"sync"
)

// Plugin is a named set of registrations (actions, listeners, replacements,
// blocks, de-duplication rules and observers) made through it and installed
// into its registry, or removed from it, as one (see "Plugins" in the package
// documentation). Registrations made through a plugin take effect when
// [Plugin.Install] publishes them, all at once, and are removed together by
// the function it returns. Make one with [Registry.Plugin].
//
// A Plugin is safe for concurrent use. Its registration methods panic on
// programmer errors (an empty name, a nil function, a malformed event) as
// the registry's do, when they are called; conflicts with what is already
// registered are reported by Install.
type Plugin struct {
	reg  *Registry
	name string

	mu        sync.Mutex // guards ops and observers
	ops       []pluginOp
	observers []Observer
}

// pluginOp is one registration of a plugin: add makes it anew in the
// snapshot of its name, for the installation of gen gen, or returns why it
// cannot.
type pluginOp struct {
	name string
	add  func(s *snapshot, gen uint64) error
}

// installation is a plugin as installed: the names whose snapshots hold its
// registrations, and its observers. Guarded by Registry.mu.
type installation struct {
	p         *Plugin
	names     []string
	observers []*observerItem
}

// Plugin returns a new, empty plugin of r named name: registrations made
// through it are installed together by its Install. Installing a plugin
// replaces the one of the same name that is installed, if any, in the same
// publication: that is how a plugin is reloaded. An empty name panics.
func (r *Registry) Plugin(name string) *Plugin {
	if name == "" {
		setupPanic("Plugin: empty plugin name")
	}
	return &Plugin{reg: r, name: name}
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// nameOf returns the plugin's name, "" for none (p nil).
func (p *Plugin) nameOf() string {
	if p == nil {
		return ""
	}
	return p.name
}

// Registry returns the registry the plugin installs into.
func (p *Plugin) Registry() *Registry { return p.reg }

// RegisterAction adds the registration of an action to the plugin, as
// [Registry.RegisterAction] makes one. Install fails with
// [ErrAlreadyRegistered] if another registration holds the name then.
func (p *Plugin) RegisterAction(name string, body Body, opts ...ActionOption) {
	p.register(name, body, opts, callerSite(0))
}

// AddListener adds a listener to the plugin, as [Registry.AddListener] adds
// one to the registry.
func (p *Plugin) AddListener(event string, fn Listener, opts ...ListenerOption) {
	p.addListener("AddListener", event, fn, nil, opts, callerSite(0))
}

// ReplaceAction adds a replacement to the plugin, as
// [Registry.ReplaceAction] pushes one. Replacements installed together are
// pushed in the order they were added to the plugin.
func (p *Plugin) ReplaceAction(name string, fn Replacement) {
	p.replace("ReplaceAction", name, &replacement{fn: fn, site: callerSite(0)})
}

// BlockAction adds a block to the plugin, as [Registry.BlockAction] places
// one. The error of an invocation it blocks names the plugin.
func (p *Plugin) BlockAction(name string, match func(payload any) bool, opts ...BlockOption) {
	p.block(name, newBlock(match, opts, callerSite(0)))
}

// DeduplicateAction adds a de-duplication rule to the plugin, as
// [Registry.DeduplicateAction] attaches one.
func (p *Plugin) DeduplicateAction(name string, key func(payload any) string, mode DedupMode) {
	if key == nil {
		setupPanic("DeduplicateAction(%q): nil key function", name)
	}
	p.attachRule(name, &dedupeRule{key: func(payload any) (string, error) { return key(payload), nil }, share: mode == SharePending})
}

// AddObserver adds an observer to the plugin, as [Registry.AddObserver]
// adds one to the registry. A nil o panics.
func (p *Plugin) AddObserver(o Observer) {
	if o == nil {
		setupPanic("AddObserver: nil observer")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observers = append(p.observers, o)
}

// Install publishes the plugin's registrations, all at once, in place of the
// plugin of the same name installed in the registry, if any (this one, or
// another value, such as a new version), and returns a function that removes
// them, all at once, reporting whether it did (false once this installation
// has been removed or replaced).
//
// An invocation sees the whole plugin or none of it: one that begins after
// Install returned runs all of the plugin's registrations on its action; one
// that began before runs none of them, in any phase, even if it reaches its
// phases afterwards. After the removal returned, no phase that starts runs
// any of them (see "Plugins" in the package documentation).
//
// If a registration cannot be made (its action's name is registered by
// another plugin or outside plugins: [ErrAlreadyRegistered]; its types do
// not fit the action's: [ErrPayloadType]), Install changes nothing and
// returns that error, naming the plugin. Registrations made through the
// plugin after Install take effect when it is installed again.
func (p *Plugin) Install() (unload func() bool, err error) {
	p.mu.Lock()
	ops, observers := p.ops, p.observers
	p.mu.Unlock()
	r := p.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.plugins[p.name]
	next := make(map[string]named) // the new snapshots, by name
	stage := func(name string) *snapshot {
		if n, ok := next[name]; ok {
			return n.s
		}
		e := r.entryLocked(name)
		s := *e.snap.Load()
		s.gen++
		if old != nil {
			s.drop(old.p)
		}
		next[name] = named{e, &s}
		return &s
	}
	inst := &installation{p: p}
	if old != nil {
		for _, name := range old.names {
			stage(name)
		}
	}
	for _, op := range ops {
		s := stage(op.name)
		if err := op.add(s, s.gen); err != nil {
			return nil, err
		}
	}
	for name, n := range next {
		r.publishLocked(name, n.e, n.s)
		if n.s.holds(p) {
			inst.names = append(inst.names, name)
		}
	}
	items := r.observerItems()
	if old != nil {
		items = dropOwned(items, old.p)
	}
	for _, o := range observers {
		item := &observerItem{o: o, owner: p}
		items = appendCopy(items, item)
		inst.observers = append(inst.observers, item)
	}
	r.setObservers(items)
	if r.plugins == nil {
		r.plugins = make(map[string]*installation)
	}
	r.plugins[p.name] = inst
	return func() bool { return r.uninstall(inst) }, nil
}

// uninstall removes inst, if it is still installed, in one publication.
func (r *Registry) uninstall(inst *installation) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.plugins[inst.p.name] != inst {
		return false
	}
	delete(r.plugins, inst.p.name)
	for _, name := range inst.names {
		e := r.lookup(name)
		if e == nil { // its registrations there are gone: once-listeners that ran
			continue
		}
		s := *e.snap.Load()
		if !s.holds(inst.p) {
			continue
		}
		s.gen++
		s.drop(inst.p)
		r.publishLocked(name, e, &s)
	}
	r.setObservers(dropOwned(r.observerItems(), inst.p))
	return true
}

// Plugins returns the names of the plugins installed in the registry,
// sorted.
func (r *Registry) Plugins() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.plugins))
	for name := range r.plugins {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// record adds op to the plugin.
func (p *Plugin) record(name string, add func(s *snapshot, gen uint64) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ops = append(p.ops, pluginOp{name: name, add: add})
}

// The plugin's side of the registrations that typed handles make (see
// registrar): each records an op that makes the registration anew at every
// Install, owned by the plugin. They return functions that remove nothing:
// the plugin's registrations are removed together.

func (p *Plugin) register(name string, body Body, opts []ActionOption, at site) (unregister func() bool, err error) {
	if name == "" {
		setupPanic("RegisterAction: empty action name")
	}
	if body == nil {
		setupPanic("RegisterAction(%q): nil body", name)
	}
	p.record(name, func(s *snapshot, _ uint64) error {
		a := p.reg.newAction(body, opts, at)
		a.owner = p
		if s.act != nil {
			return &Error{Action: name, Kind: ErrAlreadyRegistered, Plugin: p.name}
		}
		return p.misfit(name, s.registerAction(a))
	})
	return removesNothing, nil
}

func (p *Plugin) addListener(method, event string, fn Listener, typed any, opts []ListenerOption, at site) (remove func() bool) {
	after, name := mustParseEvent(method, event)
	if fn == nil {
		setupPanic("%s(%q): nil listener", method, event)
	}
	p.record(name, func(s *snapshot, gen uint64) error {
		l := newListener(fn, typed, opts, at)
		l.owner, l.gen = p, gen
		return p.misfit(name, s.listen(after, l))
	})
	return removesNothing
}

func (p *Plugin) replace(method, name string, layer *replacement) (remove func() bool) {
	if name == "" {
		setupPanic("%s: empty action name", method)
	}
	if layer.fn == nil {
		setupPanic("%s(%q): nil replacement", method, name)
	}
	p.record(name, func(s *snapshot, gen uint64) error {
		l := *layer
		l.owner, l.gen = p, gen
		return p.misfit(name, s.push(&l))
	})
	return removesNothing
}

func (p *Plugin) block(name string, b *block) (unblock func() bool) {
	if name == "" {
		setupPanic("BlockAction: empty action name")
	}
	p.record(name, func(s *snapshot, _ uint64) error {
		x := *b
		x.owner = p
		s.blocks = appendCopy(s.blocks, &x)
		return nil
	})
	return removesNothing
}

func (p *Plugin) attachRule(name string, d *dedupeRule) (remove func() bool) {
	if name == "" {
		setupPanic("DeduplicateAction: empty action name")
	}
	p.record(name, func(s *snapshot, _ uint64) error {
		x := *d
		x.owner = p
		s.dedupes = appendCopy(s.dedupes, &x)
		return nil
	})
	return removesNothing
}

// misfit turns what does not fit an action's types (see misfit) into
// Install's error.
func (p *Plugin) misfit(name, bad string) error {
	if bad == "" {
		return nil
	}
	return &Error{Action: name, Kind: ErrPayloadType, Plugin: p.name, Err: errors.New(bad)}
}

func removesNothing() bool { return false }

// registrar is where a typed handle's registrations go: the registry, or a
// plugin (see Action.In).
type registrar interface {
	register(name string, body Body, opts []ActionOption, at site) (unregister func() bool, err error)
	addListener(method, event string, fn Listener, typed any, opts []ListenerOption, at site) (remove func() bool)
	replace(method, name string, layer *replacement) (remove func() bool)
	block(name string, b *block) (unblock func() bool)
	attachRule(name string, d *dedupeRule) (remove func() bool)
}

// owned is a registration that a plugin may own.
type owned interface{ plugin() *Plugin }

func (l *listener) plugin() *Plugin     { return l.owner }
func (x *replacement) plugin() *Plugin  { return x.owner }
func (b *block) plugin() *Plugin        { return b.owner }
func (d *dedupeRule) plugin() *Plugin   { return d.owner }
func (o *observerItem) plugin() *Plugin { return o.owner }

// dropOwned returns list without p's registrations: list itself if it has
// none.
func dropOwned[T owned](list []T, p *Plugin) []T {
	return keep(list, func(x T) bool { return x.plugin() != p })
}

// drop removes p's registrations from the snapshot.
func (s *snapshot) drop(p *Plugin) {
	if s.act != nil && s.act.owner == p {
		s.act = nil
	}
	s.before, s.after = dropOwned(s.before, p), dropOwned(s.after, p)
	s.replacements = dropOwned(s.replacements, p)
	s.blocks, s.dedupes = dropOwned(s.blocks, p), dropOwned(s.dedupes, p)
}

// holds reports whether the snapshot has a registration of p.
func (s *snapshot) holds(p *Plugin) bool {
	t := *s
	t.drop(p)
	return t.act != s.act || len(t.before) != len(s.before) || len(t.after) != len(s.after) ||
		len(t.replacements) != len(s.replacements) || len(t.blocks) != len(s.blocks) || len(t.dedupes) != len(s.dedupes)
}
