package dpctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"time"
)

// org is one DPC organization and everything it owns. All fields are guarded
// by Server.mu.
type org struct {
	id, name, npi string
	created       time.Time

	tokens     map[string]*clientToken
	tokenOrder []string
	keys       map[string]*publicKey
	keyOrder   []string

	practitioners []*practitioner
	practByID     map[string]*practitioner
	practByNPI    map[string]*practitioner

	patients   []*patient
	patByID    map[string]*patient
	patByMBI   map[string]*patient
	groups     []*group
	groupByID  map[string]*group
	groupByNPI map[string]*group
}

func newOrg(id, name, npi string, now time.Time) *org {
	return &org{
		id: id, name: name, npi: npi, created: now,
		tokens:     map[string]*clientToken{},
		keys:       map[string]*publicKey{},
		practByID:  map[string]*practitioner{},
		practByNPI: map[string]*practitioner{},
		patByID:    map[string]*patient{},
		patByMBI:   map[string]*patient{},
		groupByID:  map[string]*group{},
		groupByNPI: map[string]*group{},
	}
}

type clientToken struct {
	id, label        string
	created, expires time.Time
}

type publicKey struct {
	id, label, pem string
	orgID          string
	key            *rsa.PublicKey
	created        time.Time
}

type practitioner struct {
	id, npi, family, given string
	updated                time.Time
}

type patient struct {
	id, mbi, family, given, birthDate, gender string
	updated                                   time.Time
}

type group struct {
	id, npi, practitionerID string
	members                 []*member
	memberIdx               map[string]int // patient id → index in members
	updated                 time.Time
}

type member struct {
	patientID  string
	start, end time.Time
	removed    bool
}

// attributionPeriod is how long an attribution stays active after it was made.
const attributionPeriod = 90 * 24 * time.Hour

func (m *member) inactive(now time.Time) bool { return m.removed || !now.Before(m.end) }

// attribute adds or renews patient ids in g at now.
func (g *group) attribute(ids []string, now time.Time) {
	for _, id := range ids {
		if i, ok := g.memberIdx[id]; ok {
			m := g.members[i]
			m.start, m.end, m.removed = now, now.Add(attributionPeriod), false
			continue
		}
		g.memberIdx[id] = len(g.members)
		g.members = append(g.members, &member{patientID: id, start: now, end: now.Add(attributionPeriod)})
	}
	g.updated = now
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
