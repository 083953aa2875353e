package sqlstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/store"
)

func TestLogBlockRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 123456000, time.UTC)
	entries := []store.LogEntry{
		{At: at, Method: "POST", Path: "/scim/v2/Users", Status: 201, Duration: 1234567, Client: "token:entra",
			ResourceType: "User", ResourceID: "u1", RequestID: "r1", RequestBody: []byte(`{"userName":"a"}`), ResponseBody: []byte(`{"id":"u1"}`)},
		{At: at.Add(-time.Hour), Method: "GET", Path: "/scim/v2/Users/\x00\xff", Query: "filter=x", Status: 404},
		{At: at.Add(time.Second), Method: "DELETE", Path: "", Status: 204, Duration: -1, RequestBody: []byte{0, 1, 2}},
	}
	pos := []int{3, 7, 65535}
	b := encodeBlock(entries, pos)
	if b.n != 3 || b.firstAt != micros(at.Add(-time.Hour)) || b.lastAt != micros(at.Add(time.Second)) {
		t.Fatalf("block header: %+v", b)
	}
	es, size, err := decodeMeta(b.meta)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := decodeBodies(b.bodies, size)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 {
		t.Fatalf("%d entries", len(es))
	}
	for i, be := range es {
		be.withBodies(raw)
		want := entries[i]
		got := be.e
		if be.pos != pos[i] || !got.At.Equal(want.At) || got.Method != want.Method || got.Path != want.Path || got.Query != want.Query ||
			got.Status != want.Status || got.Duration != want.Duration || got.Client != want.Client || got.ResourceType != want.ResourceType ||
			got.ResourceID != want.ResourceID || got.RequestID != want.RequestID ||
			!bytes.Equal(got.RequestBody, want.RequestBody) || !bytes.Equal(got.ResponseBody, want.ResponseBody) {
			t.Errorf("entry %d:\n got %+v (pos %d)\nwant %+v (pos %d)", i, got, be.pos, want, pos[i])
		}
	}
	// The bodies part must be the size the meta part says.
	if _, err := decodeBodies(b.bodies, size+1); err == nil {
		t.Fatal("a bodies part of the wrong size was accepted")
	}
}

func TestLogBlockCompresses(t *testing.T) {
	// A batch of Entra-shaped creates: alike in shape, so the block is a
	// fraction of their size.
	var (
		entries []store.LogEntry
		pos     []int
		rawSize int
	)
	for i := range 256 {
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"%08x","userName":"user%d@contoso.example","active":true,"displayName":"User %d","emails":[{"primary":true,"type":"work","value":"user%d@contoso.example"}],"name":{"formatted":"User %d","familyName":"%d","givenName":"User"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Dept %d","employeeNumber":"%d"}}`, i*7919, i, i, i, i, i, i%17, i)
		e := store.LogEntry{At: time.Now(), Method: "POST", Path: "/scim/v2/Users", Status: 201, RequestBody: []byte(body), ResponseBody: []byte(body)}
		entries = append(entries, e)
		pos = append(pos, i)
		rawSize += 2 * len(body)
	}
	b := encodeBlock(entries, pos)
	if got := len(b.meta) + len(b.bodies); got*4 > rawSize {
		t.Fatalf("block of %d bytes for %d bytes of bodies: want at least 4x smaller", got, rawSize)
	}
}

func TestParseMetaRefusesDamage(t *testing.T) {
	good := []byte{blockVersion, 1, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, _, err := parseMeta(good); err != nil {
		t.Fatalf("good meta: %v", err)
	}
	for name, raw := range map[string][]byte{
		"empty":            {},
		"version":          {9, 0},
		"count too large":  {blockVersion, 0xff, 0xff, 0x03},
		"truncated":        good[:len(good)-1],
		"trailing bytes":   append(append([]byte{}, good...), 0),
		"positions repeat": {blockVersion, 2, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"negative status":  {blockVersion, 1, 0, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"string past end":  {blockVersion, 1, 0, 2, 2, 2, 50, 'x'},
		"huge body":        {blockVersion, 1, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0},
	} {
		if _, _, err := parseMeta(raw); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := decodeMeta([]byte("not zstd")); err == nil {
		t.Error("a meta part that is not zstd was accepted")
	}
}

// FuzzParseMeta: whatever the bytes, parsing returns entries whose bodies
// lie within the size it reports, or an error; it never panics.
func FuzzParseMeta(f *testing.F) {
	b := encodeBlock([]store.LogEntry{{Method: "GET", Path: "/x", Status: 200, RequestBody: []byte("ab")}, {Status: 500}}, []int{0, 9})
	raw, _ := zdec.DecodeAll(b.meta, nil)
	f.Add(raw)
	f.Add([]byte{blockVersion, 1, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		es, size, err := parseMeta(raw)
		if err != nil {
			return
		}
		last := -1
		for _, be := range es {
			if be.pos <= last || be.reqOff+be.reqLen > size || be.respOff+be.respLen > size || be.reqLen < 0 || be.respLen < 0 {
				t.Fatalf("entry out of bounds: %+v (size %d)", be, size)
			}
			last = be.pos
		}
	})
}

// FuzzMetaVarint: the reader's varints are encoding/binary's, on strings.
func FuzzMetaVarint(f *testing.F) {
	for _, v := range []uint64{0, 1, 127, 128, 1 << 35, 1<<64 - 1} {
		f.Add(binary.AppendUvarint(nil, v))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		want, n := binary.Uvarint(b)
		r := metaReader{s: string(b)}
		got := r.uvarint()
		if (n <= 0) != (r.err != nil) || (n > 0 && (got != want || len(r.s) != len(b)-n)) {
			t.Fatalf("%x: got %d (err %v, %d left), binary.Uvarint %d, %d", b, got, r.err, len(r.s), want, n)
		}
		wantS, ns := binary.Varint(b)
		r = metaReader{s: string(b)}
		if gotS := r.varint(); ns > 0 && gotS != wantS {
			t.Fatalf("%x: varint %d, want %d", b, gotS, wantS)
		}
	})
}
