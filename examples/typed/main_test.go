package main

import (
	"bytes"
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-actions/actions"
)

// The program's concurrent callers meet while a fetch waits out its latency.
// In a synctest bubble the fake clock advances only once every goroutine is
// blocked, so all of them have joined the fetch before it returns: the
// output is exact, and goroutines left behind would fail the test.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, run(&buf))
		assert.Equal(t, wantOutput, buf.String())
	})
}

// Invocations with the same key share one fetch (actions.DeduplicateBy; the
// actions package docs, "Blocking, de-duplication, in flight").
func TestLoadProfile_sharing(t *testing.T) {
	tests := []struct {
		name    string
		ids     []string
		fetches int
	}{
		{name: "same_key_shares_one_fetch", ids: []string{"ada", "ada", "ada", "ada"}, fetches: 1},
		{name: "different_keys_fetch_each", ids: []string{"ada", "grace"}, fetches: 2},
		{name: "mixed", ids: []string{"ada", "grace", "ada", "grace", "ada"}, fetches: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				b := &backend{latency: time.Second, names: map[string]string{"ada": "Ada Lovelace", "grace": "Grace Hopper"}}
				loadProfile, err := registerLoadProfile(actions.New(), b)
				require.NoError(t, err)

				futures := make([]*actions.Future[Profile], len(tt.ids))
				for i, id := range tt.ids {
					futures[i] = loadProfile.Invoke(ctx, id)
				}
				for i, f := range futures {
					prof, err := f.Wait(ctx)
					require.NoError(t, err)
					assert.Equal(t, tt.ids[i], prof.ID)
				}
				assert.Equal(t, tt.fetches, b.count())
			})
		})
	}
}

// Sharers get the leader's error too, and the key is free again afterwards.
func TestLoadProfile_sharedError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		b := &backend{latency: time.Second, names: map[string]string{}}
		loadProfile, err := registerLoadProfile(actions.New(), b)
		require.NoError(t, err)

		f1, f2 := loadProfile.Invoke(ctx, "nobody"), loadProfile.Invoke(ctx, "nobody")
		_, err1 := f1.Wait(ctx)
		_, err2 := f2.Wait(ctx)

		require.Error(t, err1)
		assert.ErrorIs(t, err1, actions.ErrFailed)
		assert.Same(t, err1, err2, "one outcome, shared")
		assert.Equal(t, 0, loadProfile.InFlight())
	})
}

// A block fails the invocations it matches, and no others, until removed
// (actions.Action.Block).
func TestLoadProfile_block(t *testing.T) {
	ctx := context.Background()
	b := &backend{names: map[string]string{"ada": "Ada Lovelace", "mallory": "Mallory Malicious"}}
	loadProfile, err := registerLoadProfile(actions.New(), b)
	require.NoError(t, err)
	unblock := loadProfile.Block(func(id string) bool { return id == "mallory" })

	_, err = loadProfile.Call(ctx, "mallory")
	assert.ErrorIs(t, err, actions.ErrBlocked)
	_, err = loadProfile.Call(ctx, "ada")
	assert.NoError(t, err, "another payload is not blocked")
	assert.Equal(t, 1, b.count(), "a blocked invocation does not reach the body")

	require.True(t, unblock())
	prof, err := loadProfile.Call(ctx, "mallory")
	require.NoError(t, err)
	assert.Equal(t, "Mallory Malicious", prof.Name)
	assert.False(t, unblock(), "already removed")
}

const wantOutput = `LoadProfile takes a customer ID and returns a Profile

# 1. One caller
ada: Ada Lovelace (fetch #1)

# 2. Three callers at once for the same customer share one fetch
caller 1: Grace Hopper (fetch #2)
caller 2: Grace Hopper (fetch #2)
caller 3: Grace Hopper (fetch #2)
backend fetches so far: 2

# 3. Blocking a customer
mallory: actions: LoadProfile: action blocked (errors.Is ErrBlocked: true)
ada is not blocked: Ada Lovelace (fetch #3)
unblock removed the block: true
mallory: Mallory Malicious (fetch #4)

# 4. A typed listener aborts
actions: LoadProfile: action aborted in before phase by listener "require-id": no customer ID
aborted by "require-id", reason "no customer ID"

# 5. The untyped API sees the same action
reg.Call("LoadProfile", "grace") = main.Profile {ID:grace Name:Grace Hopper Fetch:5}
reg.Call("LoadProfile", 42): actions: LoadProfile: wrong payload type: payload is int, want string
payload type error: want string, got int
Typed[string, string].Call: actions: LoadProfile: wrong result type: result is main.Profile, want string

# 6. Rejecting instead of sharing, as Flex does
second save while the first is in flight: actions: SaveProfile: action pending (errors.Is ErrPending: true)
first save: true
a save after it: true
`
