package actionsdebug_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionsdebug"
)

func ExampleHandler() {
	reg := actions.New()
	reg.RegisterAction("CreateOrder", func(context.Context, any) (any, error) { return nil, nil })
	reg.AddListener("beforeCreateOrder", func(context.Context, any) error { return nil }, actions.Named("validate"))
	reg.AddListener("afterCreateOrdr", func(context.Context, any) error { return nil }) // a typo

	h := actionsdebug.Handler(reg)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/debug/actions?format=json", nil))

	var page actionsdebug.Page
	json.Unmarshal(w.Body.Bytes(), &page)
	for _, a := range page.Actions {
		fmt.Printf("%s registered=%v orphan=%v suggestion=%q before=%d\n", a.Name, a.Registered, a.Orphan, a.Suggestion, len(a.Before))
	}
	// Output:
	// CreateOrder registered=true orphan=false suggestion="" before=1
	// CreateOrdr registered=false orphan=true suggestion="CreateOrder" before=0
}

func ExampleRegister() {
	reg := actions.New()
	reg.RegisterAction("AcceptTask", func(context.Context, any) (any, error) { return nil, nil })

	mux := http.NewServeMux() // the service's own mux, behind its access control
	actionsdebug.Register(mux, reg)

	srv := httptest.NewServer(mux)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/debug/actions", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var page actionsdebug.Page
	json.NewDecoder(resp.Body).Decode(&page)
	fmt.Println(resp.Header.Get("Content-Type"), page.Actions[0].Name)

	post, _ := http.Post(srv.URL+"/debug/actions", "text/plain", nil)
	post.Body.Close()
	fmt.Println(post.Status)
	// Output:
	// application/json AcceptTask
	// 405 Method Not Allowed
}

func ExampleNewRecorder() {
	rec := actionsdebug.NewRecorder(actionsdebug.HistorySize(10))
	reg := actions.New(actions.WithObserver(rec))
	reg.RegisterAction("Ship", func(context.Context, any) (any, error) { return "shipped", nil })
	reg.AddListener("beforeShip", func(_ context.Context, p any) error {
		if p == "fragile" {
			return actions.Abort(errors.New("needs a crate"))
		}
		return nil
	}, actions.Named("packing"))

	ctx := context.Background()
	for _, p := range []string{"book", "fragile", "lamp"} {
		reg.Call(ctx, "Ship", p)
	}

	w := httptest.NewRecorder()
	actionsdebug.Handler(reg, actionsdebug.WithRecorder(rec)).
		ServeHTTP(w, httptest.NewRequest("GET", "/debug/actions?action=Ship&format=json", nil))
	var page actionsdebug.Page
	json.Unmarshal(w.Body.Bytes(), &page)
	ship := page.Actions[0]
	fmt.Printf("ok=%d aborted=%d\n", ship.Counts.OK, ship.Counts.Aborted)
	for _, r := range ship.Recent { // newest first
		if r.Reason != "" {
			fmt.Printf("%d %s: %s\n", r.ID, r.Status, r.Reason)
		} else {
			fmt.Printf("%d %s\n", r.ID, r.Status)
		}
	}
	// Output:
	// ok=2 aborted=1
	// 3 ok
	// 2 aborted: needs a crate
	// 1 ok
}
