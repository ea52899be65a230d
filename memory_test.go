package actions

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A registry lives as long as its program, and names come and go: plugins
// loaded and unloaded, actions named after the objects they act on. Every
// registration returns its undo; once it has been undone, nothing of it may
// remain, whatever the number of names it used.

// memNames is how many distinct names each cycle uses.
const memNames = 100_000

// memBudget is how much the heap may grow over memNames cycles: a few bytes
// a name at most, where keeping each name's bookkeeping costs hundreds.
const memBudget = 2 << 20

func memBody(context.Context, any) (any, error) { return nil, nil }

func memListener(context.Context, any) error { return nil }

func memReplacement(ctx context.Context, p any, original Body) (any, error) { return original(ctx, p) }

// heapGrowth returns how much the live heap grew over fn. An entry with
// nothing left on it is collected by a GC, and its name removed by a cleanup
// that runs after that GC: the heap is read again, after more GCs, until it
// is within budget or a second has passed.
func heapGrowth(fn func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	deadline := time.Now().Add(time.Second)
	for {
		runtime.GC()
		runtime.ReadMemStats(&after)
		growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		if growth < memBudget || time.Now().After(deadline) {
			return growth
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("makes hundreds of thousands of registrations")
	}
	cycles := []struct {
		name  string
		cycle func(t *testing.T, r *Registry, name string)
	}{
		{"Registry: an action registered then unregistered", func(t *testing.T, r *Registry, name string) {
			unregister, err := r.RegisterAction(name, memBody)
			require.NoError(t, err)
			require.True(t, unregister())
		}},
		{"Listeners: a listener added then removed", func(t *testing.T, r *Registry, name string) {
			require.True(t, r.AddListener("before"+name, memListener)())
		}},
		{"Blocking, de-duplication, in flight: a block placed then removed", func(t *testing.T, r *Registry, name string) {
			require.True(t, r.BlockAction(name, nil)())
		}},
		{"Replacing actions: a replacement pushed then removed", func(t *testing.T, r *Registry, name string) {
			require.True(t, r.ReplaceAction(name, memReplacement)())
		}},
		{"Registry: a typed handle made then dropped", func(t *testing.T, r *Registry, name string) {
			_ = Typed[int, int](r, name)
		}},
		{"Listeners: a Once listener that fired, on an action then unregistered", func(t *testing.T, r *Registry, name string) {
			unregister, err := r.RegisterAction(name, memBody)
			require.NoError(t, err)
			r.AddListener("before"+name, memListener, Once())
			_, err = r.Call(context.Background(), name, nil)
			require.NoError(t, err)
			require.True(t, unregister())
		}},
	}
	for _, c := range cycles {
		t.Run(c.name+", for each of many names, leaves the heap as it was", func(t *testing.T) {
			r := New()
			growth := heapGrowth(func() {
				for i := range memNames {
					c.cycle(t, r, "Action"+strconv.Itoa(i))
				}
			})
			runtime.KeepAlive(r)
			t.Logf("heap growth over %d names: %d bytes", memNames, growth)
			assert.Less(t, growth, int64(memBudget), "heap growth in bytes over %d names", memNames)
		})
	}
}
