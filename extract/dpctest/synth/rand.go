package synth

// rng is a splitmix64 stream: cheap, good enough for synthetic data, and
// fully determined by its start state so every sub-stream can be re-derived
// from (seed, MBI, tag) without keeping anything in memory.
type rng struct{ s uint64 }

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a value in [0, n); n must be > 0.
func (r *rng) intn(n int) int {
	return int((r.next() >> 1) % uint64(n))
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// chance reports true with probability pct/100.
func (r *rng) chance(pct int) bool { return r.intn(100) < pct }

// hashString is FNV-1a 64; used to key sub-streams on the MBI.
func hashString(h uint64, s string) uint64 {
	if h == 0 {
		h = 0xcbf29ce484222325
	}
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}

// stream derives an independent generator for (seed, mbi, tag, n) so that
// e.g. claim 3 of a beneficiary does not depend on how many random numbers
// claim 2 consumed.
func (g *Generator) stream(mbi string, tag uint64, n int) rng {
	h := hashString(0, mbi)
	h = mix64(h ^ uint64(g.opts.Seed)*0x9e3779b97f4a7c15)
	h = mix64(h ^ tag*0xd6e8feb86659fd93 ^ uint64(n)<<32)
	return rng{s: h}
}

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }
