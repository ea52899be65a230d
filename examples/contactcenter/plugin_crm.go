package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/go-actions/actions"
)

// crmSync registers a custom action, MyAction, that logs an interaction in
// the CRM over HTTP, and invokes it once a task is completed: Flex's fifth
// example. It uses the Flex-style, untyped API throughout. MyAction is the
// plugin's own: it is registered with the plugin's listener, and would be
// removed with it.
func crmSync(client *http.Client, crmURL string) plugin {
	return plugin{name: "crm-sync", init: func(a *app, p *actions.Plugin, log logf) {
		p.RegisterAction("MyAction", func(ctx context.Context, payload any) (any, error) {
			in, ok := payload.(Interaction)
			if !ok {
				return nil, fmt.Errorf("MyAction wants an Interaction, got %T", payload)
			}
			id, err := postInteraction(ctx, client, crmURL, in)
			if err != nil {
				return nil, err
			}
			log(ctx, "POST /interactions: created %s", id)
			return id, nil
		})
		p.AddListener("afterCompleteTask", func(ctx context.Context, payload any) error {
			t := payload.(*Task)
			log(ctx, "%s is complete: logging it in the CRM", t.SID)
			// An after-listener may wait for another action: the outer
			// invocation completes once this one has.
			id, err := a.reg.Call(ctx, "MyAction", Interaction{Task: t.SID, Channel: t.Channel, Customer: t.Customer})
			if err != nil {
				return err // to the registry's error handler: CompleteTask stands
			}
			log(ctx, "the CRM logged %s as %v", t.SID, id)
			return nil
		}, actions.Named("crm-sync"))
	}}
}

// postInteraction POSTs in to the CRM and returns the ID it was given. ctx is
// the invocation's: cancelling the invocation cancels the request.
func postInteraction(ctx context.Context, client *http.Client, crmURL string, in Interaction) (string, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, crmURL+"/interactions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("crm: %s", resp.Status)
	}
	var out struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("crm: %w", err)
	}
	return out.ID, nil
}
