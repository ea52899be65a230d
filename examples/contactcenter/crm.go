package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
)

// Interaction is what the CRM records about a completed task.
type Interaction struct {
	Task     string  `json:"task"`
	Channel  Channel `json:"channel"`
	Customer string  `json:"customer"`
}

// String describes the interaction in trace lines.
func (i Interaction) String() string { return "for " + i.Task }

// CRM stands in for the customer-relationship system that MyAction reports
// to: an HTTP handler that records each interaction POSTed to /interactions
// and answers with its ID. It is safe for concurrent use.
type CRM struct {
	mu       sync.Mutex    // guards received
	received []Interaction // in arrival order
}

func (c *CRM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/interactions" {
		http.NotFound(w, r)
		return
	}
	var in Interaction
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.received = append(c.received, in)
	id := fmt.Sprintf("INT-%d", len(c.received))
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{"id": id})
}

// Received returns the interactions the CRM has recorded, in order.
func (c *CRM) Received() []Interaction {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.received)
}
