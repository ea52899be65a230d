package actionsdebug

import (
	"bytes"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-actions/actions"
)

// Path is where [Register] mounts the page.
const Path = "/debug/actions"

// Option configures the handler made by [Handler] or [Register].
type Option func(*handler)

// WithRecorder makes the page show the invocations rec recorded: the
// recent, the slowest, and counts by status and latency. rec must be an
// observer of the registry (see [NewRecorder]). The default is none: the
// page shows what the registry holds and what is in flight. A nil rec
// panics.
func WithRecorder(rec *Recorder) Option {
	if rec == nil {
		panic("actionsdebug: WithRecorder: nil recorder")
	}
	return func(h *handler) { h.rec = rec }
}

type handler struct {
	reg *actions.Registry
	rec *Recorder
}

// Handler returns an http.Handler that serves the page of reg: every name
// with something on it, its listeners, replacements, blocks and invocations
// in flight, and, with [WithRecorder], its recent invocations. It serves
// HTML, or JSON (see [Page]) when the request has ?format=json or accepts
// application/json. ?action=NAME shows the one action named, with its full
// history. It answers GET and HEAD; other methods get 405 Method Not
// Allowed. A nil reg panics.
//
// Each request reads the registry's snapshots and copies the recorder's
// history one action at a time; it takes no lock while it renders, and no
// lock of the registry at all.
func Handler(reg *actions.Registry, opts ...Option) http.Handler {
	if reg == nil {
		panic("actionsdebug: Handler: nil registry")
	}
	h := &handler{reg: reg}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Register mounts the page of reg on mux at [Path], /debug/actions, as
// [Handler] serves it. mux should be the service's own, behind its access
// control. A nil mux panics, and so does mounting twice on one mux.
func Register(mux *http.ServeMux, reg *actions.Registry, opts ...Option) {
	if mux == nil {
		panic("actionsdebug: Register: nil mux")
	}
	mux.Handle(Path, Handler(reg, opts...))
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "actionsdebug: read-only page: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	page := buildPage(h.reg, h.rec, q.Get("action"), time.Now())
	var buf bytes.Buffer
	var err error
	ctype := "text/html; charset=utf-8"
	if wantsJSON(r) {
		ctype = "application/json"
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		err = enc.Encode(page)
	} else {
		err = pageTemplate.Execute(&buf, page)
	}
	if err != nil {
		http.Error(w, "actionsdebug: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// wantsJSON reports whether r asks for JSON: ?format=json, or an Accept
// header that lists application/json (and ?format is not html).
func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return true
	case "html":
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if t, _, err := mime.ParseMediaType(part); err == nil && t == "application/json" {
			return true
		}
	}
	return false
}

func sortActions(list []Action) {
	slices.SortFunc(list, func(a, b Action) int { return strings.Compare(a.Name, b.Name) })
}

func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"dur":  formatDuration,
	"time": func(t time.Time) string { return t.Format("15:04:05.000000") },
}).Parse(pageHTML))
