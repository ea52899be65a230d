package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionsdebug"
)

// With -http, the scenario runs with a recorder observing the registry: the
// trace is the same, and the debug page then shows what the scenario left.
func TestServeDebug(t *testing.T) {
	rec := actionsdebug.NewRecorder()
	var buf bytes.Buffer
	a, err := play(&buf, func(opts ...actions.Option) *actions.Registry {
		return actions.New(append(opts, actions.WithObserver(rec))...)
	})
	require.NoError(t, err)
	assert.Equal(t, wantTrace, buf.String())

	ln, err := listen("127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveDebug(ctx, ln, a.reg, rec) }()

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + actionsdebug.Path)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `data-action="AcceptTask"`)
	page := string(body)
	voice, confirm := strings.Index(page, "<li>voice-detector (priority 10)"), strings.Index(page, "<li>confirm-accept")
	assert.True(t, voice >= 0 && confirm > voice, "the before-listeners of AcceptTask, in run order")
	assert.Contains(t, page, "contactcenter/plugin_voice.go:", "where the listener was added")
	// Which plugin owns what: every registration of the demo's plugins is
	// tagged with its plugin; maintenance, unloaded, is gone.
	assert.Contains(t, page, `<li>voice-detector (priority 10) <span class="plugin" title="plugin">voice-detector</span>`)
	assert.Contains(t, page, `<a href="?action=MyAction">MyAction</a><div class="plugins">plugins: <span class="plugin">crm-sync</span></div>`)
	assert.Contains(t, page, `registered by plugin <span class="plugin">crm-sync</span>`)
	assert.Contains(t, page, `<a href="?action=WrapupTask">WrapupTask</a><div class="plugins">plugins: <span class="plugin">chat-goodbye</span></div>`)
	assert.NotContains(t, page, `<span class="plugin">maintenance</span>`)
	assert.Contains(t, string(body), `<p class="recorder">Recorder: 5 of at most`, "the scenario's invocations, recorded")

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop")
	}
}

func TestListenWithoutHostIsLoopback(t *testing.T) {
	ln, err := listen(":0")
	require.NoError(t, err)
	defer ln.Close()
	assert.True(t, ln.Addr().(*net.TCPAddr).IP.IsLoopback(), ln.Addr().String())

	_, err = listen("8080")
	assert.Error(t, err)
}
