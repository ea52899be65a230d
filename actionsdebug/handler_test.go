package actionsdebug_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionsdebug"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandlerShowsWhatTheRegistryHolds(t *testing.T) {
	reg := actions.New()
	at := lineHere() // the lines below are at+1, at+2, ...
	_, err1 := reg.RegisterAction("CreateOrder", ok, actions.Deduplicate(func(any) string { return "k" }, actions.SharePending), actions.Concurrent(true))
	_, err2 := reg.RegisterAction("AcceptTask", ok, actions.Deduplicate(func(any) string { return "k" }, actions.RejectPending))
	reg.AddListener("beforeCreateOrder", nop, actions.Named("validate"))
	reg.AddListener("beforeCreateOrder", nop, actions.Named("authorize"), actions.Priority(10))
	reg.AddListener("afterCreateOrder", nop, actions.Named("audit"), actions.Once())
	reg.AddListener("afterCreateOrdr", nop, actions.Named("notify")) // a typo: an orphan
	reg.AddListener("beforeZzzzzzzz", nop)                           // an orphan nothing is near
	reg.ReplaceAction("AcceptTask", func(ctx context.Context, p any, original actions.Body) (any, error) { return original(ctx, p) })
	reg.ReplaceAction("AcceptTask", func(ctx context.Context, p any, original actions.Body) (any, error) { return original(ctx, p) })
	reg.BlockAction("AcceptTask", func(any) bool { return true })
	require.NoError(t, errors.Join(err1, err2))
	h := actionsdebug.Handler(reg)
	src := func(offset int) string { return thisFile() + ":" + strconv.Itoa(at+offset) }

	p := page(t, h, "/debug/actions")
	assert.Nil(t, p.Recorder)
	names := []string{}
	for _, a := range p.Actions {
		names = append(names, a.Name)
	}
	assert.Equal(t, []string{"AcceptTask", "CreateOrder", "CreateOrdr", "Zzzzzzzz"}, names)

	assert.Equal(t, actionsdebug.Action{
		Name: "CreateOrder", Registered: true, Source: src(1), Dedup: "share", Concurrent: true,
		Before:             []actionsdebug.Listener{{Name: "authorize", Priority: 10, Source: src(4)}, {Name: "validate", Source: src(3)}},
		After:              []actionsdebug.Listener{{Name: "audit", Once: true, Source: src(5)}},
		ReplacementSources: []string{}, BlockSources: []string{}, Plugins: []string{},
	}, action(t, p, "CreateOrder"))
	assert.Equal(t, actionsdebug.Action{
		Name: "AcceptTask", Registered: true, Source: src(2), Dedup: "reject",
		Replacements: 2, ReplacementSources: []string{src(9), src(8)}, // top of the stack first
		Blocks: 1, BlockSources: []string{src(10)},
		Before: []actionsdebug.Listener{}, After: []actionsdebug.Listener{}, Plugins: []string{},
	}, action(t, p, "AcceptTask"))
	orphan := action(t, p, "CreateOrdr")
	assert.True(t, orphan.Orphan)
	assert.False(t, orphan.Registered)
	assert.Empty(t, orphan.Source)
	assert.Equal(t, "CreateOrder", orphan.Suggestion)
	assert.Equal(t, []actionsdebug.Listener{{Name: "notify", Source: src(6)}}, orphan.After)
	far := action(t, p, "Zzzzzzzz")
	assert.True(t, far.Orphan)
	assert.Empty(t, far.Suggestion)

	var js bytes.Buffer
	require.NoError(t, json.Compact(&js, serve(t, h, http.MethodGet, "/debug/actions", "Accept", "application/json").Body.Bytes()))
	assert.Contains(t, js.String(), `{"name":"notify","priority":0,"once":false,"source":"`+src(6)+`"}`)
	assert.Contains(t, js.String(), `"registered":true,"source":"`+src(2)+`"`)
	assert.Contains(t, js.String(), `"replacement_sources":["`+src(9)+`","`+src(8)+`"]`)
	assert.Contains(t, js.String(), `"block_sources":["`+src(10)+`"]`)
	assert.Contains(t, js.String(), `"plugins":[]`, "a list, even with no plugin")
	assert.NotContains(t, js.String(), `"plugin":`, "no plugin registered anything")

	body := html(t, h, "/debug/actions")
	assert.Contains(t, body, `<span class="flag">ORPHAN</span>`)
	assert.Contains(t, body, `did you mean <a href="?action=CreateOrder">CreateOrder</a>?`)
	assert.Equal(t, 2, strings.Count(body, `class="flag"`), "two orphans flagged")
	site := func(offset int) string { return ` <span class="source">` + src(offset) + `</span>` }
	assert.Contains(t, body, `<li>authorize (priority 10)`+site(4)+`</li><li>validate`+site(3)+`</li>`, "before-listeners in run order, each with its line")
	assert.Contains(t, body, `<li>audit once`+site(5)+`</li>`)
	assert.Contains(t, body, `<li><i>unnamed</i>`+site(7)+`</li>`)
	assert.Contains(t, body, `registered at <span class="source">`+src(1)+`</span>`)
	assert.Contains(t, body, `<td class="num replacements">2<ol class="sources"><li class="source">`+src(9)+`</li><li class="source">`+src(8)+`</li></ol></td>`)
	assert.Contains(t, body, `<td class="num blocks">1<ol class="sources"><li class="source">`+src(10)+`</li></ol></td>`)
	assert.Contains(t, body, `<td class="num blocks">0</td>`, "no list when there is nothing")
	assert.Contains(t, body, `<td>share</td>`)
	assert.NotContains(t, body, `class="plugin`, "no plugin, no badge")
}

// The page tells which plugin made each registration: the action's, each
// listener's, and which plugins have anything on the name.
func TestHandlerShowsPlugins(t *testing.T) {
	reg := actions.New()
	billing := reg.Plugin("billing")
	at := lineHere()
	billing.RegisterAction("Invoice", ok)
	billing.AddListener("beforeInvoice", nop, actions.Named("tax"), actions.Priority(5))
	reg.AddListener("beforeInvoice", nop, actions.Named("log")) // outside plugins
	maintenance := reg.Plugin("maintenance")
	maintenance.BlockAction("Invoice", nil, actions.Reason(errors.New("closed for the night")))
	maintenance.AddListener("afterShip", nop, actions.Named("hold"))
	register(t, reg, "Ship", ok)
	_, err := billing.Install()
	require.NoError(t, err)
	unload, err := maintenance.Install()
	require.NoError(t, err)
	h := actionsdebug.Handler(reg)
	src := func(offset int) string { return thisFile() + ":" + strconv.Itoa(at+offset) }

	p := page(t, h, "/debug/actions")
	invoice := action(t, p, "Invoice")
	assert.Equal(t, "billing", invoice.Plugin)
	assert.Equal(t, []string{"billing", "maintenance"}, invoice.Plugins)
	assert.Equal(t, []actionsdebug.Listener{{Name: "tax", Priority: 5, Source: src(2), Plugin: "billing"}, {Name: "log", Source: src(3)}}, invoice.Before)
	ship := action(t, p, "Ship")
	assert.Empty(t, ship.Plugin, "Ship is registered outside plugins")
	assert.Equal(t, []string{"maintenance"}, ship.Plugins, "a plugin with only a listener on the name")
	assert.Equal(t, "maintenance", ship.After[0].Plugin)

	var js bytes.Buffer
	require.NoError(t, json.Compact(&js, serve(t, h, http.MethodGet, "/debug/actions?format=json").Body.Bytes()))
	assert.Contains(t, js.String(), `"name":"Invoice","registered":true,"source":"`+src(1)+`","plugin":"billing","plugins":["billing","maintenance"]`)
	assert.Contains(t, js.String(), `{"name":"tax","priority":5,"once":false,"source":"`+src(2)+`","plugin":"billing"}`)
	assert.Contains(t, js.String(), `{"name":"log","priority":0,"once":false,"source":"`+src(3)+`"}`, "no plugin field for a listener outside plugins")

	body := html(t, h, "/debug/actions")
	badge := func(name string) string { return `<span class="plugin">` + name + `</span>` }
	assert.Contains(t, body, `<a href="?action=Invoice">Invoice</a><div class="plugins">plugins: `+badge("billing")+` `+badge("maintenance")+`</div>`)
	assert.Contains(t, body, `registered by plugin `+badge("billing")+` at <span class="source">`+src(1)+`</span>`)
	assert.Contains(t, body, `<li>tax (priority 5) <span class="plugin" title="plugin">billing</span> <span class="source">`+src(2)+`</span></li>`)
	assert.Contains(t, body, `<li>log <span class="source">`+src(3)+`</span></li>`, "no badge outside plugins")
	assert.Contains(t, body, `<li>hold <span class="plugin" title="plugin">maintenance</span>`)
	assert.Contains(t, body, `<a href="?action=Ship">Ship</a><div class="plugins">plugins: `+badge("maintenance")+`</div></td>`+"\n"+`<td>registered at`)

	require.True(t, unload())
	invoice = action(t, page(t, h, "/debug/actions"), "Invoice")
	assert.Equal(t, []string{"billing"}, invoice.Plugins, "maintenance is gone with its block")
	assert.Zero(t, invoice.Blocks)
	assert.NotContains(t, html(t, h, "/debug/actions"), "maintenance")
}

func TestHandlerShowsInFlight(t *testing.T) {
	reg, h, _ := recorded(t)
	entered, release := make(chan struct{}), make(chan struct{})
	register(t, reg, "Hold", func(context.Context, any) (any, error) {
		close(entered)
		<-release
		return nil, nil
	})
	fut := reg.InvokeAction(context.Background(), "Hold", nil)
	<-entered

	assert.Equal(t, 1, action(t, page(t, h, "/debug/actions"), "Hold").InFlight)
	assert.Contains(t, html(t, h, "/debug/actions"), `<td class="num inflight">1</td>`)

	close(release)
	_, err := fut.Wait(context.Background())
	require.NoError(t, err)
	a := action(t, page(t, h, "/debug/actions"), "Hold")
	assert.Equal(t, 0, a.InFlight)
	assert.Equal(t, &actionsdebug.Counts{OK: 1}, a.Counts)
}

func TestHandlerShowsFailuresAndAborts(t *testing.T) {
	reg, h, _ := recorded(t)
	register(t, reg, "Charge", func(context.Context, any) (any, error) { return nil, errors.New("card declined") })
	register(t, reg, "Ship", ok)
	reg.AddListener("beforeShip", func(context.Context, any) error { return actions.Abort(errors.New("over quota")) }, actions.Named("quota"))
	ctx := context.Background()
	_, err := reg.Call(ctx, "Charge", nil)
	require.ErrorIs(t, err, actions.ErrFailed)
	_, err = reg.Call(ctx, "Ship", nil)
	require.ErrorIs(t, err, actions.ErrAborted)
	_, err = reg.Call(ctx, "Missing", nil)
	require.ErrorIs(t, err, actions.ErrActionNotFound)

	p := page(t, h, "/debug/actions")
	failed := action(t, p, "Charge").Last
	require.NotNil(t, failed)
	assert.Equal(t, "failed", failed.Status)
	assert.Equal(t, "body", failed.Stage)
	assert.Contains(t, failed.Error, "card declined")
	assert.Empty(t, failed.Reason)

	aborted := action(t, p, "Ship")
	require.NotNil(t, aborted.Last)
	assert.Equal(t, "aborted", aborted.Last.Status)
	assert.Equal(t, "quota", aborted.Last.Listener)
	assert.Equal(t, "over quota", aborted.Last.Reason)
	assert.Equal(t, &actionsdebug.Counts{Aborted: 1}, aborted.Counts)

	missing := action(t, p, "Missing")
	assert.False(t, missing.Registered)
	assert.False(t, missing.Orphan, "invoked, with nothing on it")
	assert.Equal(t, "rejected", missing.Last.Status)

	body := html(t, h, "/debug/actions")
	assert.Contains(t, body, `<span class="failed">failed</span>`)
	assert.Contains(t, body, `card declined`)
	assert.Contains(t, body, `<span class="aborted">aborted</span>`)
	assert.Contains(t, body, `reason: over quota`)

	detail := html(t, h, "/debug/actions?action=Ship")
	assert.Contains(t, detail, `<td>quota</td><td>actions: Ship: action aborted in before phase by listener &#34;quota&#34;: over quota</td><td>over quota</td>`)
}

func TestHandlerEscapesNamesAndMessages(t *testing.T) {
	const hostile = `<script>alert(1)</script>`
	reg, h, _ := recorded(t)
	register(t, reg, hostile, func(context.Context, any) (any, error) { return nil, errors.New(hostile) })
	reg.AddListener("before"+hostile, nop, actions.Named(hostile))
	_, err := reg.Call(context.Background(), hostile, nil)
	require.Error(t, err)

	for _, target := range []string{"/debug/actions", "/debug/actions?action=" + hostile} {
		body := html(t, h, target)
		assert.NotContains(t, body, hostile, target)
		assert.Contains(t, body, `&lt;script&gt;alert(1)&lt;/script&gt;`, target)
	}

	w := serve(t, h, http.MethodGet, "/debug/actions?format=json")
	assert.NotContains(t, w.Body.String(), "<script>", "JSON escapes < and > too")
	a := action(t, page(t, h, "/debug/actions"), hostile)
	assert.Equal(t, hostile, a.Name)
	assert.Equal(t, hostile, a.Before[0].Name)
	assert.Contains(t, a.Last.Error, hostile)
}

func TestHandlerFiltersByAction(t *testing.T) {
	reg, h, _ := recorded(t)
	register(t, reg, "A", ok)
	register(t, reg, "B", ok)
	_, err := reg.Call(context.Background(), "A", 1)
	require.NoError(t, err)

	p := page(t, h, "/debug/actions?action=A")
	assert.Equal(t, "A", p.Action)
	require.Len(t, p.Actions, 1)
	a := p.Actions[0]
	assert.Equal(t, "A", a.Name)
	require.Len(t, a.Recent, 1)
	assert.Equal(t, "ok", a.Recent[0].Status)
	assert.Len(t, a.Slowest, 1)
	assert.Len(t, a.Latency, 6)
	assert.Empty(t, a.Recent[0].Payload, "no payloads by default")

	overview := action(t, page(t, h, "/debug/actions"), "A")
	assert.Nil(t, overview.Recent, "the full history only with the filter")
	assert.NotNil(t, overview.Last)

	body := html(t, h, "/debug/actions?action=A")
	assert.Contains(t, body, `data-action="A"`)
	assert.NotContains(t, body, `data-action="B"`)
	assert.Contains(t, body, "Recent invocations")

	none := page(t, h, "/debug/actions?action=Nothing")
	assert.Empty(t, none.Actions)
	assert.Contains(t, html(t, h, "/debug/actions?action=Nothing"), "Nothing is registered")
}

func TestHandlerIsReadOnly(t *testing.T) {
	h := actionsdebug.Handler(actions.New())
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		w := serve(t, h, m, "/debug/actions")
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"), m)
	}
	w := serve(t, h, http.MethodHead, "/debug/actions")
	assert.Equal(t, http.StatusOK, w.Code)
}

func TestHandlerNegotiatesFormat(t *testing.T) {
	h := actionsdebug.Handler(actions.New())
	for _, tc := range []struct {
		name, target, accept, want string
	}{
		{"default", "/", "", "text/html; charset=utf-8"},
		{"browser", "/", "text/html,application/xhtml+xml,*/*;q=0.8", "text/html; charset=utf-8"},
		{"accept", "/", "application/json", "application/json"},
		{"accept among others", "/", "text/plain, application/json;q=0.9", "application/json"},
		{"query", "/?format=json", "", "application/json"},
		{"query wins", "/?format=html", "application/json", "text/html; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(t, h, http.MethodGet, tc.target, "Accept", tc.accept)
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, tc.want, w.Header().Get("Content-Type"))
			assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
		})
	}
}

func TestRegisterMountsAtDebugActions(t *testing.T) {
	reg := actions.New()
	register(t, reg, "A", ok)
	mux := http.NewServeMux()
	actionsdebug.Register(mux, reg)
	assert.Equal(t, "A", action(t, page(t, mux, "/debug/actions"), "A").Name)
	assert.Equal(t, http.StatusNotFound, serve(t, mux, http.MethodGet, "/debug/other").Code)
}

func TestSetupPanics(t *testing.T) {
	assert.PanicsWithValue(t, "actionsdebug: Handler: nil registry", func() { actionsdebug.Handler(nil) })
	assert.PanicsWithValue(t, "actionsdebug: Register: nil mux", func() { actionsdebug.Register(nil, actions.New()) })
	assert.PanicsWithValue(t, "actionsdebug: WithRecorder: nil recorder", func() { actionsdebug.WithRecorder(nil) })
	assert.Panics(t, func() { actionsdebug.HistorySize(0) })
	assert.Panics(t, func() { actionsdebug.SlowWindow(0) })
	assert.Panics(t, func() { actionsdebug.MaxActions(0) })
}

func TestHandlerServesWhileInvocationsRun(t *testing.T) {
	reg, h, _ := recorded(t, actionsdebug.HistorySize(8), actionsdebug.MaxActions(4))
	names := []string{"A", "B", "C", "D", "E", "F"}
	for _, n := range names[:3] {
		register(t, reg, n, ok)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 300 {
				reg.Call(ctx, names[(i+j)%len(names)], j)
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for j := range 30 {
				html(t, h, "/debug/actions")
				page(t, h, "/debug/actions?action="+names[j%len(names)])
			}
		})
	}
	wg.Wait()
	p := page(t, h, "/debug/actions")
	assert.LessOrEqual(t, p.Recorder.Actions, 4)
	var total uint64
	for _, a := range p.Actions {
		if a.Counts != nil {
			total += a.Counts.Total()
		}
	}
	assert.Positive(t, total)
}

func TestHandlerRendersAThousandActions(t *testing.T) {
	reg, h, _ := bigRegistry(t, 1000)
	p := page(t, h, "/debug/actions")
	require.Len(t, p.Actions, 1000)
	for _, a := range p.Actions {
		require.Len(t, a.Before, 2, a.Name)
		require.NotNil(t, a.Counts, a.Name)
	}
	body := html(t, h, "/debug/actions")
	assert.Equal(t, 1000, strings.Count(body, `<tr class="action`))
	assert.Equal(t, 1000, len(reg.Actions()))
}
