package actionsdebug_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionsdebug"
	"github.com/stretchr/testify/require"
)

// bigRegistry returns a registry of n actions, each with two before- and
// one after-listener and a full history, and the page's handler.
func bigRegistry(tb testing.TB, n int) (*actions.Registry, http.Handler, *actionsdebug.Recorder) {
	tb.Helper()
	reg, h, rec := recorded(tb)
	ctx := context.Background()
	for i := range n {
		name := fmt.Sprintf("Action%04d", i)
		register(tb, reg, name, ok)
		reg.AddListener("before"+name, nop, actions.Named("validate"), actions.Priority(1))
		reg.AddListener("before"+name, nop, actions.Named("authorize"))
		reg.AddListener("after"+name, nop, actions.Named("audit"))
		for range actionsdebug.DefaultHistorySize {
			_, err := reg.Call(ctx, name, nil)
			require.NoError(tb, err)
		}
	}
	return reg, h, rec
}

func BenchmarkHandler(b *testing.B) {
	_, h, _ := bigRegistry(b, 1000)
	for _, bc := range []struct{ name, target string }{
		{"HTML", "/debug/actions"},
		{"JSON", "/debug/actions?format=json"},
		{"OneAction", "/debug/actions?action=Action0500"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, bc.target, nil))
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

func BenchmarkRecorder(b *testing.B) {
	rec := actionsdebug.NewRecorder()
	reg := actions.New(actions.WithObserver(rec))
	register(b, reg, "A", ok)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reg.Call(ctx, "A", nil)
		}
	})
}
