package actions

import (
	"fmt"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// TestCounter covers the counters behind InFlight's count and
// Close's drain: under contention they spread over cells, and a sum never
// misses a count that is held.
func TestCounter(t *testing.T) {
	t.Run("uncontended_stays_in_base", func(t *testing.T) {
		var c counter
		c.inc(0)
		assert.Equal(t, int64(1), lower(&c))
		c.dec(0)
		assert.Zero(t, lower(&c))
		assert.Equal(t, int64(1), c.base.ends.Load())
		assert.Nil(t, c.cells.Load())
	})

	for _, spread := range []bool{false, true} {
		t.Run(fmt.Sprintf("In_flight_sum_exact_under_contention/spread=%v", spread), func(t *testing.T) {
			testCounterContention(t, spread)
		})
	}
}

func testCounterContention(t *testing.T, spread bool) {
	var c counter
	if spread { // as after a collision, which scheduling may not provide
		c.cells.Store(new([counterCells]counterCell))
	}
	const goroutines, rounds = 16, 2000
	var held sync.WaitGroup // every goroutine holds one count here
	held.Add(goroutines)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var local int // its address is on this goroutine's stack
			hint := uintptrOf(&local)
			for range rounds {
				c.inc(hint)
				c.dec(hint)
			}
			c.inc(hint + uintptr(g)<<11)
			held.Done()
			<-release
			c.dec(hint) // any cell: only the sums count
		})
	}
	held.Wait()
	// Every goroutine holds exactly one count: the sum is exact.
	assert.Equal(t, int64(goroutines), lower(&c))
	close(release)
	wg.Wait()
	assert.Zero(t, lower(&c))
	assert.Equal(t, int64(goroutines*(rounds+1)), c.starts())
	assert.Equal(t, c.starts(), c.ends())
}

func uintptrOf(p *int) uintptr { return uintptr(unsafe.Pointer(p)) }
