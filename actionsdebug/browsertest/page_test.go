package browsertest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionsdebug"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	// browserBudget bounds the whole browser session: starting it, every
	// load and every query. When it runs out the browser is stopped, so a
	// hung browser fails the test instead of hanging the run.
	browserBudget = 2 * time.Minute
	// stepTimeout bounds one load or query.
	stepTimeout = 30 * time.Second
	// viewport is the browser's window, and the screenshot's width.
	viewportWidth, viewportHeight = 1200, 900
)

// row is what the browser renders of one action's row of the table.
type row struct {
	Name      string   `json:"name"`
	Classes   []string `json:"classes"`
	Flag      string   `json:"flag"`
	State     string   `json:"state"`
	Suggested string   `json:"suggested"`
	Before    []string `json:"before"`
	After     []string `json:"after"`
	Replaced  string   `json:"replaced"`
	Blocked   string   `json:"blocked"`
	InFlight  string   `json:"inflight"`
	Sources   []string `json:"sources"` // of the before-listeners
	// Plugin is the plugin that registered the action, Plugins those with
	// anything on the name, BeforePlugins the plugin of each before-listener
	// ("" for one added outside plugins).
	Plugin        string   `json:"plugin"`
	Plugins       []string `json:"plugins"`
	BeforePlugins []string `json:"beforePlugins"`
	// Last is the recorder's last invocation of the action, as shown.
	Last string `json:"last"`
}

// rowsJS reads the rows of table#actions from the rendered DOM.
// Registration sites (.source, .sources) and plugin tags (.plugin,
// .plugins) are read apart: sources lists where each listener of the row was
// added, plugin, plugins and beforePlugins the tags, as rendered.
const rowsJS = `Array.from(document.querySelectorAll('#actions tr.action')).map(tr => {
	const cells = tr.querySelectorAll(':scope > td');
	const bare = e => { const c = e.cloneNode(true); c.querySelectorAll('.source, .sources, .plugin, .plugins').forEach(s => s.remove()); return c.textContent.trim(); };
	const shown = e => e && e.checkVisibility() ? e.innerText.trim() : '';
	const items = td => Array.from(td.querySelectorAll(':scope > ol > li')).map(bare);
	const text = sel => { const e = tr.querySelector(sel); return e ? bare(e) : ''; };
	const link = cells[1].querySelector('a');
	return {
		name: tr.dataset.action,
		classes: Array.from(tr.classList),
		flag: text('.flag'),
		state: bare(cells[1]),
		sources: Array.from(cells[2].querySelectorAll('.source')).map(e => e.textContent.trim()),
		suggested: link ? link.textContent.trim() : '',
		before: items(cells[2]),
		after: items(cells[3]),
		replaced: text('td.replacements'),
		blocked: text('td.blocks'),
		inflight: text('td.inflight'),
		plugin: shown(cells[1].querySelector('.plugin')),
		plugins: Array.from(cells[0].querySelectorAll('.plugins .plugin')).map(shown),
		last: cells[cells.length - 1].innerText.trim(),
		beforePlugins: Array.from(cells[2].querySelectorAll(':scope > ol > li')).map(li => shown(li.querySelector('.plugin'))),
	};
})`

func TestPageInBrowser(t *testing.T) {
	reg, h, release := scenario(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	url := srv.URL + actionsdebug.Path

	ctx := browser(t)

	rows := load(t, ctx, url)
	byName := index(rows)

	orphan, ok := byName["CompleteTsk"]
	require.True(t, ok, "the orphan's row is on the page: %v", rows)
	assert.Contains(t, orphan.Classes, "orphan", "the orphan's row is marked")
	assert.Equal(t, "ORPHAN", orphan.Flag)
	assert.Contains(t, orphan.State, "not registered")
	assert.Equal(t, "CompleteTask", orphan.Suggested, "the registered name it is nearest to")
	assert.Equal(t, []string{"notifySupervisor"}, orphan.After)
	for _, r := range rows {
		if r.Name != "CompleteTsk" {
			assert.NotContains(t, r.Classes, "orphan", r.Name)
			assert.Empty(t, r.Flag, r.Name)
		}
	}

	order := byName["CreateOrder"]
	assert.Contains(t, order.State, "registered")
	require.Len(t, order.Sources, 3, "each before-listener shows where it was added")
	for _, src := range order.Sources {
		assert.Contains(t, src, "browsertest/page_test.go:", "the site of the scenario's AddListener")
	}
	assert.Equal(t, []string{"authorize (priority 10)", "validate", "log (priority -5)"}, order.Before, "before-listeners in run order")
	assert.Equal(t, []string{"audit"}, order.After)

	// Which plugin owns what, as tags the browser shows.
	assert.Equal(t, []string{"", "", "audit"}, order.BeforePlugins, "log is audit's; the others are outside plugins")
	assert.Equal(t, []string{"audit"}, order.Plugins)
	assert.Empty(t, order.Plugin, "CreateOrder is registered outside plugins")
	music := byName["PlayHoldMusic"]
	assert.Equal(t, "hold-music", music.Plugin, "the plugin that registered the action")
	assert.Equal(t, []string{"hold-music"}, music.Plugins)
	accept := byName["AcceptTask"]
	assert.Equal(t, []string{"maintenance"}, accept.Plugins, "the plugin of the block")
	assert.Contains(t, accept.Last, `action blocked (plugin "maintenance"): closed for maintenance`)
	assert.Empty(t, byName["AssignAgent"].Plugins)

	assert.Equal(t, "1", byName["AcceptTask"].Blocked)
	assert.Equal(t, "0", byName["AcceptTask"].Replaced)
	assert.Equal(t, "2", byName["AssignAgent"].Replaced)
	assert.Equal(t, "0", byName["AssignAgent"].Blocked)

	assert.Equal(t, "1", byName["PlayHoldMusic"].InFlight, "the held invocation is in flight")
	assert.Equal(t, "0", byName["CreateOrder"].InFlight)

	png := screenshot(t, ctx)

	release()
	rows = load(t, ctx, url)
	assert.Equal(t, "0", index(rows)["PlayHoldMusic"].InFlight, "released, it is no longer in flight")
	assert.Equal(t, 0, reg.InFlight("PlayHoldMusic"))

	save(t, png)
}

// scenario returns a registry with something of each kind on it, and the
// page's handler over it. One invocation of PlayHoldMusic is held in its
// body until release is called (at the latest when the test ends); release
// waits for it to end.
func scenario(t *testing.T) (reg *actions.Registry, h http.Handler, release func()) {
	t.Helper()
	rec := actionsdebug.NewRecorder()
	reg = actions.New(actions.WithObserver(rec), actions.WithErrorHandler(func(context.Context, error) {}))
	register := func(name string, body actions.Body) {
		t.Helper()
		_, err := reg.RegisterAction(name, body)
		require.NoError(t, err)
	}
	ok := func(context.Context, any) (any, error) { return "done", nil }
	nop := func(context.Context, any) error { return nil }

	// Three plugins, installed below: audit adds listeners to CreateOrder,
	// maintenance blocks AcceptTask, hold-music registers PlayHoldMusic.
	audit, maintenance, music := reg.Plugin("audit"), reg.Plugin("maintenance"), reg.Plugin("hold-music")

	register("CreateOrder", ok)
	reg.AddListener("beforeCreateOrder", nop, actions.Named("validate"))
	audit.AddListener("beforeCreateOrder", nop, actions.Named("log"), actions.Priority(-5))
	reg.AddListener("beforeCreateOrder", nop, actions.Named("authorize"), actions.Priority(10))
	audit.AddListener("afterCreateOrder", nop, actions.Named("audit"))

	register("CompleteTask", ok)
	reg.AddListener("afterCompleteTsk", nop, actions.Named("notifySupervisor")) // misspelled: an orphan

	register("AcceptTask", ok)
	maintenance.BlockAction("AcceptTask", nil, actions.Reason(errors.New("closed for maintenance")))

	register("AssignAgent", ok)
	passThrough := func(ctx context.Context, p any, original actions.Body) (any, error) { return original(ctx, p) }
	reg.ReplaceAction("AssignAgent", passThrough)
	reg.ReplaceAction("AssignAgent", passThrough)

	entered, held := make(chan struct{}), make(chan struct{})
	music.RegisterAction("PlayHoldMusic", func(context.Context, any) (any, error) {
		close(entered)
		<-held
		return nil, nil
	})
	for _, p := range []*actions.Plugin{audit, maintenance, music} {
		_, err := p.Install()
		require.NoError(t, err, p.Name())
	}

	bg := context.Background()
	for _, name := range []string{"CreateOrder", "CreateOrder", "CompleteTask", "AssignAgent", "AcceptTask"} {
		reg.Call(bg, name, nil) // AcceptTask is rejected: it is blocked
	}
	fut := reg.InvokeAction(bg, "PlayHoldMusic", nil)
	select {
	case <-entered:
	case <-time.After(stepTimeout):
		t.Fatal("the held invocation did not start")
	}

	var once sync.Once
	release = func() {
		once.Do(func() {
			close(held)
			ctx, cancel := context.WithTimeout(bg, stepTimeout)
			defer cancel()
			_, err := fut.Wait(ctx)
			assert.NoError(t, err, "the held invocation")
		})
	}
	t.Cleanup(release)
	return reg, actionsdebug.Handler(reg, actionsdebug.WithRecorder(rec)), release
}

// browser starts a headless browser for the test and returns its context,
// bounded by browserBudget. It fails the test when no browser can be found
// or started, or skips it when ACTIONS_NO_BROWSER=1.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := findBrowser()
	if err != nil {
		noBrowser(t, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(viewportWidth, viewportHeight),
	)
	budget, cancelBudget := context.WithTimeout(context.Background(), browserBudget)
	alloc, cancelAlloc := chromedp.NewExecAllocator(budget, opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelCtx() // closes the tab and stops the browser
		cancelAlloc()
		cancelBudget()
	})
	// The first run starts the browser; it lives as long as ctx.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(viewportWidth, viewportHeight)); err != nil {
		noBrowser(t, errors.New("starting "+path+": "+err.Error()))
	}
	return ctx
}

// findBrowser returns the path of the first of chromium, chromium-browser
// and google-chrome on the PATH.
func findBrowser() (string, error) {
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", errors.New("no browser on the PATH: none of " + strings.Join(names, ", ") + " (on Debian: apt-get install chromium)")
}

// noBrowser fails the test with why no browser is available, or skips it
// when ACTIONS_NO_BROWSER=1.
func noBrowser(t *testing.T, why error) {
	t.Helper()
	if os.Getenv("ACTIONS_NO_BROWSER") == "1" {
		t.Skipf("ACTIONS_NO_BROWSER=1: %v", why)
	}
	t.Fatalf("%v (set ACTIONS_NO_BROWSER=1 to skip this test where there is no browser)", why)
}

// load navigates to url, waits for the table and returns its rows as
// rendered.
func load(t *testing.T, ctx context.Context, url string) []row {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	require.NoError(t, chromedp.Do(step,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("actions")),
	), "loading %s", url)
	rows, err := chromedp.Run(step, chromedp.Evaluate[[]row](rowsJS))
	require.NoError(t, err, "reading the table")
	return rows
}

func index(rows []row) map[string]row {
	m := make(map[string]row, len(rows))
	for _, r := range rows {
		m[r.Name] = r
	}
	return m
}

// screenshot returns a full-page screenshot of the tab, as PNG.
func screenshot(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(step, chromedp.FullScreenshot(100)) // 100: PNG
	require.NoError(t, err, "screenshot")
	require.True(t, strings.HasPrefix(string(png), "\x89PNG\r\n\x1a\n"), "a PNG")
	return png
}

// save writes png to the test's temporary directory and, with
// ACTIONSDEBUG_SCREENSHOT=PATH, to PATH.
func save(t *testing.T, png []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "debug-page.png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	if out := os.Getenv("ACTIONSDEBUG_SCREENSHOT"); out != "" {
		require.NoError(t, os.WriteFile(out, png, 0o644))
		t.Logf("screenshot: %s", out)
	}
}
