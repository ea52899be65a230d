package actionsdebug_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionsdebug"
	"github.com/stretchr/testify/require"
)

// serve sends a request for target to h and returns the response.
func serve(t testing.TB, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// html returns the page at target as HTML.
func html(t testing.TB, h http.Handler, target string) string {
	t.Helper()
	w := serve(t, h, http.MethodGet, target)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	return w.Body.String()
}

// page returns the page at target as JSON, decoded.
func page(t testing.TB, h http.Handler, target string) actionsdebug.Page {
	t.Helper()
	w := serve(t, h, http.MethodGet, target, "Accept", "application/json")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var p actionsdebug.Page
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	return p
}

// action returns the page's action named name.
func action(t testing.TB, p actionsdebug.Page, name string) actionsdebug.Action {
	t.Helper()
	for _, a := range p.Actions {
		if a.Name == name {
			return a
		}
	}
	require.Failf(t, "action not on the page", "%q not among %d actions", name, len(p.Actions))
	return actionsdebug.Action{}
}

// recorded returns a registry observed by a new recorder, and the page's
// handler with that recorder.
func recorded(t testing.TB, opts ...actionsdebug.RecorderOption) (*actions.Registry, http.Handler, *actionsdebug.Recorder) {
	t.Helper()
	rec := actionsdebug.NewRecorder(opts...)
	reg := actions.New(actions.WithObserver(rec), actions.WithErrorHandler(func(context.Context, error) {}))
	return reg, actionsdebug.Handler(reg, actionsdebug.WithRecorder(rec)), rec
}

func register(t testing.TB, reg *actions.Registry, name string, body actions.Body, opts ...actions.ActionOption) {
	t.Helper()
	_, err := reg.RegisterAction(name, body, opts...)
	require.NoError(t, err)
}

func ok(context.Context, any) (any, error) { return "done", nil }

// lineHere returns the line it is called from.
func lineHere() int {
	_, _, line, _ := runtime.Caller(1)
	return line
}

// thisFile returns the file it is called from as the registry reports a
// site's file: "actionsdebug/name_test.go".
func thisFile() string {
	_, file, _, _ := runtime.Caller(1)
	return filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
}

func nop(context.Context, any) error { return nil }
