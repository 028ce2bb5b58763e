package synth

import "strconv"

// MBI alphabet per the CMS MBI format specification: letters exclude S, L,
// O, I, B and Z. Positions: 1 = C (1-9), 2/5/8/9 = A (alpha), 3/6 = AN
// (alpha or digit), 4/7/10/11 = N (0-9).
const (
	mbiAlpha = "ACDEFGHJKMNPQRTUVWXY"
	mbiAN    = "0123456789ACDEFGHJKMNPQRTUVWXY"
	mbiNum   = "0123456789"
	mbiC     = "123456789"
)

var mbiPositions = [11]string{mbiC, mbiAlpha, mbiAN, mbiNum, mbiAlpha, mbiAN, mbiNum, mbiAlpha, mbiAlpha, mbiNum, mbiNum}

// mbiSpace is the number of distinct MBIs (~1.3e13).
var mbiSpace = func() uint64 {
	n := uint64(1)
	for _, p := range mbiPositions {
		n *= uint64(len(p))
	}
	return n
}()

// ValidMBI reports whether s has the CMS MBI format (11 characters, upper case).
func ValidMBI(s string) bool {
	_, ok := decodeMBI(s)
	return ok
}

func decodeMBI(s string) (uint64, bool) {
	if len(s) != 11 {
		return 0, false
	}
	var v uint64
	for i, p := range mbiPositions {
		k := -1
		for j := 0; j < len(p); j++ {
			if p[j] == s[i] {
				k = j
				break
			}
		}
		if k < 0 {
			return 0, false
		}
		v = v*uint64(len(p)) + uint64(k)
	}
	return v, true
}

func encodeMBI(v uint64) string {
	var b [11]byte
	for i := 10; i >= 0; i-- {
		p := mbiPositions[i]
		b[i] = p[v%uint64(len(p))]
		v /= uint64(len(p))
	}
	return string(b[:])
}

// MBI returns the i-th synthetic MBI (i >= 0). Distinct i give distinct MBIs
// for a seed: i is passed through a seeded bijection on [0, 2^40) before being
// written in the MBI's mixed radix.
func (g *Generator) MBI(i int) string {
	const mask = 1<<40 - 1
	x := uint64(i) & mask
	off := mix64(uint64(g.opts.Seed)^0x4d42490000000000) & mask
	x = (x*0x5851f42d4c957f2d + off) & mask // odd multiplier: bijective mod 2^40
	x ^= x >> 20                            // invertible within 40 bits
	x = (x * 0x2545f4914f6cdd1d) & mask
	return encodeMBI(x) // 2^40 < mbiSpace, so no wrap-around collisions
}

// NPI returns the i-th synthetic practitioner NPI (i in [0, 1e8)): 10 digits
// starting with 1 whose last digit is the Luhn check digit computed with the
// 80840 prefix, as the NPI standard requires. Distinct i give distinct NPIs.
func (g *Generator) NPI(i int) string {
	const space = 100_000_000
	off := mix64(uint64(g.opts.Seed)^0x4e50490000000000) % space
	x := (uint64(i)%space*7_919_773 + off) % space // multiplier coprime to 10^8
	return npiFrom(100_000_000 + x)
}

// npiFrom appends the Luhn check digit to a 9-digit NPI body.
func npiFrom(body uint64) string {
	b := strconv.AppendUint(make([]byte, 0, 10), body, 10)
	return string(append(b, '0'+npiCheck(b)))
}

func npiCheck(body []byte) byte {
	// Luhn over "80840"+body+check: double every second digit from the right,
	// starting with the rightmost body digit.
	digits := append([]byte("80840"), body...)
	sum := 0
	double := true
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte((10 - sum%10) % 10)
}

// ValidNPI reports whether s is 10 digits with a correct Luhn check digit
// (80840 prefix).
func ValidNPI(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return npiCheck([]byte(s[:9])) == s[9]-'0'
}
