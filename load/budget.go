package load

import (
	"context"
	"runtime"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Budget is one memory budget shared by every Run of a process (every group, table, row
// group and upload part). Write reserves what a batch will cost (three times its Arrow bytes:
// encodingFactor) before it queues the batch;
// the reservation follows the batch into its table's row group and, on an S3 sink, into the
// upload's part buffers, and is given back when those are flushed. Back-pressure is a
// weighted semaphore: a Write that cannot reserve waits, and while one waits every idle
// table flushes what it holds (smaller row groups, then, on S3, smaller files), so a wait
// always ends. Only Write waits; encoders never do, so the budget cannot deadlock.
type Budget struct {
	limit, share int64
	sem          *semaphore.Weighted
	// cpu bounds the tables encoding at once to the cores: more would not be faster, and
	// every one holds a compressor and its page buffers while it encodes.
	cpu chan struct{}

	mu         sync.Mutex
	used, high int64
	upload     int64 // of used: held by upload part buffers
	waiting    int64 // bytes wanted by blocked Writes
	// press is closed while a Write waits; starve while the waiting Writes cannot be served
	// even once every row group is flushed (only then do files end early to free upload buffers).
	press, starve     chan struct{}
	pressed, starving bool
}

// minShare is the least a table may buffer in its row group before it flushes.
const minShare = 1 << 20

// NewBudget returns a budget of limit bytes for about writers concurrently open tables
// (every group's tables together); each table flushes its row group at limit/writers.
func NewBudget(limit int64, writers int) *Budget {
	limit = max(limit, 2*minShare)
	return &Budget{limit: limit, share: max(limit/int64(max(writers, 1)), minShare),
		sem: semaphore.NewWeighted(limit), press: make(chan struct{}), starve: make(chan struct{}),
		cpu: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// encoding runs f holding one of the budget's encoder slots.
func (b *Budget) encoding(f func() error) error {
	b.cpu <- struct{}{}
	defer func() { <-b.cpu }()
	return f()
}

// Limit is the budget in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Share is the reservation at which a table flushes its row group without pressure.
func (b *Budget) Share() int64 { return b.share }

// HighWater is the most bytes ever reserved at once; it never exceeds Limit.
func (b *Budget) HighWater() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.high
}

// Used is the bytes reserved now.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// acquire reserves n bytes (at most the whole budget: a larger batch takes all of it).
func (b *Budget) acquire(ctx context.Context, n int64) (int64, error) {
	n = min(max(n, 1), b.limit)
	if !b.sem.TryAcquire(n) {
		b.update(func() { b.waiting += n })
		err := b.sem.Acquire(ctx, n)
		b.update(func() { b.waiting -= n })
		if err != nil {
			return 0, err
		}
	}
	b.mu.Lock()
	b.used += n
	b.high = max(b.high, b.used)
	b.mu.Unlock()
	return n, nil
}

// release gives back n bytes, of which upload were held by part buffers.
func (b *Budget) release(n, upload int64) {
	if n <= 0 {
		return
	}
	b.update(func() { b.used -= n; b.upload -= upload })
	b.sem.Release(n)
}

// toUpload marks n held bytes as moved from a row group to upload part buffers.
func (b *Budget) toUpload(n int64) { b.update(func() { b.upload += n }) }

// update applies f and opens or closes the pressure channels to match.
func (b *Budget) update(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
	flip := func(on bool, was *bool, ch *chan struct{}) {
		if on != *was {
			if *was = on; on {
				close(*ch)
			} else {
				*ch = make(chan struct{})
			}
		}
	}
	flip(b.waiting > 0, &b.pressed, &b.press)
	flip(b.waiting > 0 && b.waiting+b.upload > b.limit, &b.starving, &b.starve)
}

// signals returns the pressure channels: press is closed while a Write waits, starve
// while row groups alone cannot make room.
func (b *Budget) signals() (press, starve <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.press, b.starve
}
