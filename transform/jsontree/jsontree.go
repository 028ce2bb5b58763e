// Package jsontree parses one JSON document into a compact, zero-copy node tree.
// It is the transform engine's JSON reader: one parse per NDJSON line, arenas reused between lines.
package jsontree

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Kind is the JSON kind of a node.
type Kind uint8

// JSON kinds.
const (
	Null Kind = iota
	False
	True
	Number
	String
	Object
	Array
)

var kindNames = [...]string{"null", "false", "true", "number", "string", "object", "array"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// Node is one JSON value. Nodes are stored in pre-order in Doc.Nodes: a container's
// children follow it, and Next is the index just past its subtree, so siblings are
// reached without pointers.
type Node struct {
	Start, End       uint32 // scalar: raw span (string without quotes); container: span of the whole value
	KeyStart, KeyEnd uint32 // member key span (without quotes) when the parent is an object
	Next             int32  // index of the node after this subtree
	Len              int32  // number of children (containers)
	Kind             Kind
	Esc              bool // string value contains escapes
	KeyEsc           bool // key contains escapes
	// KeyTag is KeyTag(key) for an unescaped member key: a one-byte summary that lets a
	// member lookup skip most siblings without reading the key bytes.
	KeyTag uint8
}

// KeyTag summarises a member name for Node.KeyTag. It depends only on the name up to its
// first upper-case letter after the first byte, so a choice element (valueQuantity) has the
// tag of its base name (value): comparing tags never rules out a member a lookup wants.
func KeyTag(key string) uint8 { return keyTag(key) }

func keyTag[S string | []byte](key S) uint8 {
	n := len(key)
	for i := 1; i < len(key); i++ {
		if c := key[i]; c >= 'A' && c <= 'Z' {
			n = i
			break
		}
	}
	if n == 0 {
		return 0
	}
	return uint8(n)*29 ^ key[0] ^ key[n-1]<<1 ^ key[n>>1]<<3
}

// Doc is a parsed document. Its nodes refer to the input bytes, which must stay
// unchanged while the Doc is used. Reset by Parse; reuse a Doc to avoid allocation.
type Doc struct {
	Data  []byte
	Nodes []Node
	// Filter, when set, makes Parse skip (validate without building nodes) object members
	// whose keys it rules out, wherever they are. Escaped keys are always kept.
	Filter *KeySet
	stack  []int32
}

// KeySet is a conservative filter of member names: it may keep keys it was not given
// (same first byte and length), never drops one it was given.
type KeySet struct {
	mask     [256]uint64 // first byte → bit per key length (bit 63: 63 and longer)
	suffixes map[string]bool
}

// NewKeySet keeps the given names and, for choice elements, name+suffix for each suffix
// (e.g. "value" with "Quantity" keeps "valueQuantity").
func NewKeySet(names []string, suffixes []string) *KeySet {
	ks := &KeySet{suffixes: map[string]bool{}}
	for _, n := range names {
		if n != "" {
			ks.mask[n[0]] |= 1 << min(len(n), 63)
		}
	}
	for _, s := range suffixes {
		ks.suffixes[s] = true
	}
	return ks
}

func (ks *KeySet) has(first byte, n int) bool { return ks.mask[first]&(1<<min(n, 63)) != 0 }

func (ks *KeySet) keep(key []byte) bool {
	if len(key) == 0 || ks.has(key[0], len(key)) {
		return true
	}
	// a choice element: name + type suffix starting with an upper-case letter
	// (the name may contain upper case too: multipleBirth + Integer)
	for i := 1; i < len(key); i++ {
		if c := key[i]; c >= 'A' && c <= 'Z' && ks.has(key[0], i) && ks.suffixes[string(key[i:])] {
			return true
		}
	}
	return false
}

// SyntaxError reports malformed JSON at a byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// ErrTooDeep is returned for documents nested deeper than MaxDepth.
var ErrTooDeep = errors.New("JSON nested too deeply")

// MaxDepth bounds nesting so hostile input cannot exhaust memory through the stack.
const MaxDepth = 512

// Parse parses data (one complete JSON value, surrounding white space allowed) into d.
func (d *Doc) Parse(data []byte) error {
	if uint64(len(data)) >= 1<<32-1 {
		return &SyntaxError{0, "document larger than 4 GiB"}
	}
	d.Data = data
	d.Nodes = d.Nodes[:0]
	d.stack = d.stack[:0]
	p := 0
	n := len(data)
	var keyStart, keyEnd uint32
	var keyEsc, haveKey bool
	// expect: what may come next.
	const (
		expValue      = iota // a value
		expKeyOrEnd          // after '{'
		expKey               // after ',' in object
		expCommaOrEnd        // after a value inside a container
		expValOrEnd          // after '['
	)
	state := expValue
	for {
		// skip white space
		for p < n && data[p] <= ' ' && (data[p] == ' ' || data[p] == '\n' || data[p] == '\r' || data[p] == '\t') {
			p++
		}
		if p >= n {
			if len(d.stack) == 0 && len(d.Nodes) > 0 {
				return nil
			}
			return &SyntaxError{p, "unexpected end of input"}
		}
		c := data[p]
		switch state {
		case expKeyOrEnd, expKey:
			if c == '}' && state == expKeyOrEnd {
				p = d.closeContainer(p)
				state = d.afterValue()
				if state < 0 {
					return d.trailing(p)
				}
				continue
			}
			if c != '"' {
				return &SyntaxError{p, "expected string key"}
			}
			s, e, esc, err := scanString(data, p)
			if err != nil {
				return err
			}
			keyStart, keyEnd, keyEsc, haveKey = uint32(p+1), uint32(e-1), esc, true
			_ = s
			p = e
			for p < n && data[p] <= ' ' && (data[p] == ' ' || data[p] == '\n' || data[p] == '\r' || data[p] == '\t') {
				p++
			}
			if p >= n || data[p] != ':' {
				return &SyntaxError{p, "expected ':' after object key"}
			}
			p++
			if d.Filter != nil && !keyEsc && !d.Filter.keep(data[keyStart:keyEnd]) {
				// a member no expression reads: validate it, build no nodes
				var err error
				if p, err = d.skipValue(p, len(d.stack)); err != nil {
					return err
				}
				haveKey = false
				state = expCommaOrEnd
				continue
			}
			state = expValue
			continue
		case expCommaOrEnd:
			// only here does the container kind matter (',' then a key or a value)
			inObj := len(d.stack) > 0 && d.Nodes[d.stack[len(d.stack)-1]].Kind == Object
			switch {
			case c == ',':
				p++
				if inObj {
					state = expKey
				} else {
					state = expValue
				}
				continue
			case c == '}' && inObj, c == ']' && !inObj:
				p = d.closeContainer(p)
				state = d.afterValue()
				if state < 0 {
					return d.trailing(p)
				}
				continue
			default:
				return &SyntaxError{p, "expected ',' or end of container"}
			}
		case expValOrEnd:
			if c == ']' {
				p = d.closeContainer(p)
				state = d.afterValue()
				if state < 0 {
					return d.trailing(p)
				}
				continue
			}
		}
		// a value
		idx := int32(len(d.Nodes))
		d.Nodes = append(d.Nodes, Node{Start: uint32(p)})
		nd := &d.Nodes[idx]
		if haveKey {
			nd.KeyStart, nd.KeyEnd, nd.KeyEsc = keyStart, keyEnd, keyEsc
			if !keyEsc {
				nd.KeyTag = keyTag(data[keyStart:keyEnd])
			}
			haveKey = false
		}
		if len(d.stack) > 0 {
			d.Nodes[d.stack[len(d.stack)-1]].Len++
		}
		switch {
		case c == '"':
			_, e, esc, err := scanString(data, p)
			if err != nil {
				return err
			}
			nd.Kind, nd.Start, nd.End, nd.Esc = String, uint32(p+1), uint32(e-1), esc
			nd.Next = idx + 1
			p = e
		case c == '{' || c == '[':
			if len(d.stack) >= MaxDepth {
				return ErrTooDeep
			}
			d.stack = append(d.stack, idx)
			p++
			if c == '{' {
				nd.Kind = Object
				state = expKeyOrEnd
			} else {
				nd.Kind = Array
				state = expValOrEnd
			}
			continue
		case c == 't':
			if !bytes.HasPrefix(data[p:], []byte("true")) {
				return &SyntaxError{p, "invalid literal"}
			}
			nd.Kind, nd.End, nd.Next = True, uint32(p+4), idx+1
			p += 4
		case c == 'f':
			if !bytes.HasPrefix(data[p:], []byte("false")) {
				return &SyntaxError{p, "invalid literal"}
			}
			nd.Kind, nd.End, nd.Next = False, uint32(p+5), idx+1
			p += 5
		case c == 'n':
			if !bytes.HasPrefix(data[p:], []byte("null")) {
				return &SyntaxError{p, "invalid literal"}
			}
			nd.Kind, nd.End, nd.Next = Null, uint32(p+4), idx+1
			p += 4
		case c == '-' || (c >= '0' && c <= '9'):
			e, err := scanNumber(data, p)
			if err != nil {
				return err
			}
			nd.Kind, nd.End, nd.Next = Number, uint32(e), idx+1
			p = e
		default:
			return &SyntaxError{p, fmt.Sprintf("unexpected character %q", c)}
		}
		if p < n && !isDelim(data[p]) {
			return &SyntaxError{p, "unexpected character after value"}
		}
		state = d.afterValue()
		if state < 0 {
			return d.trailing(p)
		}
	}
}

// skipValue validates the value at data[p:] like Parse would, without building nodes.
// depth is the nesting depth of the value's container.
func (d *Doc) skipValue(p, depth int) (int, error) {
	data := d.Data
	n := len(data)
	p = skipWS(data, p)
	if p >= n {
		return 0, &SyntaxError{p, "unexpected end of input"}
	}
	switch c := data[p]; {
	case c == '"':
		_, e, _, err := scanString(data, p)
		if err != nil {
			return 0, err
		}
		p = e
	case c == '{' || c == '[':
		if depth >= MaxDepth {
			return 0, ErrTooDeep
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p = skipWS(data, p+1)
		if p < n && data[p] == closer {
			return d.afterSkipped(p + 1)
		}
		for {
			if c == '{' {
				if p >= n || data[p] != '"' {
					return 0, &SyntaxError{p, "expected string key"}
				}
				_, e, _, err := scanString(data, p)
				if err != nil {
					return 0, err
				}
				p = skipWS(data, e)
				if p >= n || data[p] != ':' {
					return 0, &SyntaxError{p, "expected ':' after object key"}
				}
				p++
			}
			var err error
			if p, err = d.skipValue(p, depth+1); err != nil {
				return 0, err
			}
			p = skipWS(data, p)
			if p >= n {
				return 0, &SyntaxError{p, "unexpected end of input"}
			}
			if data[p] == closer {
				return d.afterSkipped(p + 1)
			}
			if data[p] != ',' {
				return 0, &SyntaxError{p, "expected ',' or end of container"}
			}
			p = skipWS(data, p+1)
		}
	case c == 't', c == 'f', c == 'n':
		lit := "null"
		if c == 't' {
			lit = "true"
		} else if c == 'f' {
			lit = "false"
		}
		if !bytes.HasPrefix(data[p:], []byte(lit)) {
			return 0, &SyntaxError{p, "invalid literal"}
		}
		p += len(lit)
	case c == '-' || (c >= '0' && c <= '9'):
		e, err := scanNumber(data, p)
		if err != nil {
			return 0, err
		}
		p = e
	default:
		return 0, &SyntaxError{p, fmt.Sprintf("unexpected character %q", c)}
	}
	return d.afterSkipped(p)
}

func (d *Doc) afterSkipped(p int) (int, error) {
	if p < len(d.Data) && !isDelim(d.Data[p]) {
		return 0, &SyntaxError{p, "unexpected character after value"}
	}
	return p, nil
}

func skipWS(data []byte, p int) int {
	for p < len(data) && data[p] <= ' ' && (data[p] == ' ' || data[p] == '\n' || data[p] == '\r' || data[p] == '\t') {
		p++
	}
	return p
}

func isDelim(c byte) bool {
	switch c {
	case ' ', '\n', '\r', '\t', ',', '}', ']', ':':
		return true
	}
	return false
}

func (d *Doc) trailing(p int) error {
	for p < len(d.Data) {
		switch d.Data[p] {
		case ' ', '\n', '\r', '\t':
			p++
		default:
			return &SyntaxError{p, "data after top-level value"}
		}
	}
	return nil
}

// afterValue returns the next state, or -1 when the top-level value is complete.
func (d *Doc) afterValue() int {
	if len(d.stack) == 0 {
		return -1
	}
	return 3 // expCommaOrEnd
}

func (d *Doc) closeContainer(p int) int {
	top := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	nd := &d.Nodes[top]
	nd.End = uint32(p + 1)
	nd.Next = int32(len(d.Nodes))
	return p + 1
}

// scanString scans the string starting at data[p]=='"'; it returns the offset just past the closing quote.
func scanString(data []byte, p int) (start, end int, esc bool, err error) {
	// Fast path: printable ASCII without escapes, eight bytes at a time, stopping at the
	// first byte that is a quote, a backslash, a control character or non-ASCII.
	i := p + 1
	for i+8 <= len(data) {
		x := binary.LittleEndian.Uint64(data[i:])
		yq := x ^ (lsb * '"')
		yb := x ^ (lsb * '\\')
		m := ((x - lsb*0x20) | x | ((yq - lsb) &^ yq) | ((yb - lsb) &^ yb)) & msb
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) >> 3
		break
	}
	for i < len(data) && data[i] >= 0x20 && data[i] < 0x80 && data[i] != '"' && data[i] != '\\' {
		i++
	}
	if i < len(data) && data[i] == '"' {
		return p + 1, i + 1, false, nil
	}
	i = p + 1
	for {
		q := bytes.IndexByte(data[i:], '"')
		if q < 0 {
			return 0, 0, false, &SyntaxError{p, "unterminated string"}
		}
		seg := data[i : i+q]
		if !esc && plainASCII(seg) {
			return p + 1, i + q + 1, false, nil
		}
		if !esc && bytes.IndexByte(seg, '\\') < 0 {
			if err := checkCtl(seg, i); err != nil {
				return 0, 0, false, err
			}
			return p + 1, i + q + 1, false, nil
		}
		esc = true
		if !utf8.Valid(seg) {
			return 0, 0, false, &SyntaxError{i, "invalid UTF-8 in string"}
		}
		// walk the segment honouring escapes
		j := i
		for j < i+q {
			c := data[j]
			if c < 0x20 {
				return 0, 0, false, &SyntaxError{j, "control character in string"}
			}
			if c == '\\' {
				if j+1 >= len(data) {
					return 0, 0, false, &SyntaxError{j, "unterminated escape"}
				}
				switch data[j+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					j += 2
				case 'u':
					if j+6 > len(data) || !isHex4(data[j+2:j+6]) {
						return 0, 0, false, &SyntaxError{j, "invalid \\u escape"}
					}
					j += 6
				default:
					return 0, 0, false, &SyntaxError{j, "invalid escape"}
				}
				continue
			}
			j++
		}
		if j == i+q {
			return p + 1, i + q + 1, true, nil
		}
		// the quote at i+q was escaped; continue after it
		i = j
	}
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainASCII reports whether b has only printable ASCII without backslashes (the common
// case), eight bytes at a time.
func plainASCII(b []byte) bool {
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		y := x ^ (lsb * '\\')
		if ((x-lsb*0x20)|x|((y-lsb)&^y))&msb != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}

func checkCtl(seg []byte, off int) error {
	for k, c := range seg {
		if c < 0x20 || c >= 0x80 {
			if c < 0x20 {
				return &SyntaxError{off + k, "control character in string"}
			}
			if !utf8.Valid(seg[k:]) {
				return &SyntaxError{off + k, "invalid UTF-8 in string"}
			}
			for _, c := range seg[k:] {
				if c < 0x20 {
					return &SyntaxError{off + k, "control character in string"}
				}
			}
			return nil
		}
	}
	return nil
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func scanNumber(data []byte, p int) (int, error) {
	i := p
	n := len(data)
	if data[i] == '-' {
		i++
	}
	if i >= n {
		return 0, &SyntaxError{p, "invalid number"}
	}
	if data[i] == '0' {
		i++
	} else if data[i] >= '1' && data[i] <= '9' {
		for i < n && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	} else {
		return 0, &SyntaxError{p, "invalid number"}
	}
	if i < n && data[i] == '.' {
		i++
		s := i
		for i < n && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == s {
			return 0, &SyntaxError{p, "invalid number"}
		}
	}
	if i < n && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < n && (data[i] == '+' || data[i] == '-') {
			i++
		}
		s := i
		for i < n && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == s {
			return 0, &SyntaxError{p, "invalid number"}
		}
	}
	return i, nil
}

// Raw returns the raw bytes of node i (string contents without quotes, escapes not decoded).
func (d *Doc) Raw(i int32) []byte {
	n := &d.Nodes[i]
	return d.Data[n.Start:n.End]
}

// Str returns the decoded string of a String node (or the raw text of other scalars).
// Unescaped strings are returned without copying: they alias Data.
func (d *Doc) Str(i int32) string {
	n := &d.Nodes[i]
	b := d.Data[n.Start:n.End]
	if !n.Esc {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return Unescape(b)
}

// Key returns the decoded member key of node i.
func (d *Doc) Key(i int32) string {
	n := &d.Nodes[i]
	b := d.Data[n.KeyStart:n.KeyEnd]
	if !n.KeyEsc {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return Unescape(b)
}

// Child returns the member of object i named name, or -1.
func (d *Doc) Child(i int32, name string) int32 {
	n := &d.Nodes[i]
	if n.Kind != Object {
		return -1
	}
	ns := d.Nodes[:n.Next]
	for c := i + 1; int(c) < len(ns); c = ns[c].Next {
		cn := &ns[c]
		if int(cn.KeyEnd-cn.KeyStart) == len(name) && !cn.KeyEsc && string(d.Data[cn.KeyStart:cn.KeyEnd]) == name {
			return c
		}
		if cn.KeyEsc && d.Key(c) == name {
			return c
		}
	}
	return -1
}

// Unescape decodes JSON string escapes in b (which must be valid, as checked by Parse).
func Unescape(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch b[i+1] {
		case '"', '\\', '/':
			out = append(out, b[i+1])
			i += 2
		case 'b':
			out = append(out, '\b')
			i += 2
		case 'f':
			out = append(out, '\f')
			i += 2
		case 'n':
			out = append(out, '\n')
			i += 2
		case 'r':
			out = append(out, '\r')
			i += 2
		case 't':
			out = append(out, '\t')
			i += 2
		case 'u':
			if i+6 > len(b) {
				i = len(b)
				break
			}
			r1, _ := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
			i += 6
			r := rune(r1)
			if utf16.IsSurrogate(r) {
				if i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
					r2, _ := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
					if dr := utf16.DecodeRune(r, rune(r2)); dr != utf8.RuneError {
						i += 6
						out = utf8.AppendRune(out, dr)
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, b[i+1])
			i += 2
		}
	}
	return string(out)
}
