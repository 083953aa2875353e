package sqlstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/pamscim/pamscim/internal/store"
)

// The provisioning log is stored in blocks: each AppendLog call (a batch of
// the recorder, a few hundred requests of a fifth of a second) becomes one
// row per tenant holding its entries' fields and bodies, each part
// compressed with zstd. One row per request cost 20–40 µs of CPU per entry
// on SQLite (bound parameters, B-tree and WAL writes of 1.4 KB of bodies);
// a block costs a few µs per entry, and JSON bodies of one batch, alike in
// shape, compress about tenfold together (bench/RESULTS.md, "Provisioning
// log overhead").
//
// An entry's id is batch<<16 | position: batch is a counter advanced once
// per AppendLog call, position the entry's place in the call. Ids so grow
// in the order entries were appended, across tenants too, and stay the
// same when pruning rewrites a block.

const (
	// posBits is the width of an entry's position in its id.
	posBits = 16
	// maxBatchEntries is the most entries one batch number can hold.
	maxBatchEntries = 1 << posBits
	// blockEntries and blockBodyBytes bound one block, so that reading an
	// entry decompresses little and a block stays far from the decoder's
	// memory limit.
	blockEntries   = 256
	blockBodyBytes = 4 << 20
	// maxDecoded is the most one part of a block may decompress to; a
	// larger one is refused as corrupt.
	maxDecoded = 64 << 20
	// blockVersion is the first byte of an encoded meta part.
	blockVersion = 1
)

var (
	zenc     *zstd.Encoder
	zdec     *zstd.Decoder
	zstdOnce sync.Once
)

func zstdInit() {
	zstdOnce.Do(func() {
		var err error
		// The fastest level: the log's writer runs beside SCIM requests on
		// the same cores, and the batch's redundancy is found even there.
		zenc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2),
			zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic(err)
		}
		zdec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxMemory(maxDecoded),
			zstd.WithDecoderMaxWindow(8<<20), zstd.WithDecoderLowmem(true))
		if err != nil {
			panic(err)
		}
	})
}

// errBlock is a block that does not decode: the store's own bytes were
// damaged, never a client's doing.
var errBlock = errors.New("provisioning log block is corrupt")

// logBlock is one block as stored.
type logBlock struct {
	tenant          string
	n               int
	firstAt, lastAt int64 // micros: the oldest and newest entry's time
	meta, bodies    []byte
}

// blockEntry is an entry read from a block: everything but its bodies,
// which are located in the block's bodies part.
type blockEntry struct {
	e                store.LogEntry // Tenant and bodies not set
	pos              int
	reqOff, reqLen   int
	respOff, respLen int
}

// encodeBlock packs entries (one tenant's, in order) with their positions.
func encodeBlock(entries []store.LogEntry, pos []int) logBlock {
	zstdInit()
	size := 16
	bodies := 0
	for i := range entries {
		e := &entries[i]
		size += 48 + len(e.Method) + len(e.Path) + len(e.Query) + len(e.Client) + len(e.ResourceType) + len(e.ResourceID) + len(e.RequestID)
		bodies += len(e.RequestBody) + len(e.ResponseBody)
	}
	meta := make([]byte, 0, size)
	body := make([]byte, 0, bodies)
	meta = append(meta, blockVersion)
	meta = binary.AppendUvarint(meta, uint64(len(entries)))
	b := logBlock{n: len(entries), firstAt: math.MaxInt64, lastAt: math.MinInt64}
	for i := range entries {
		e := &entries[i]
		at := micros(e.At)
		b.firstAt, b.lastAt = min(b.firstAt, at), max(b.lastAt, at)
		meta = binary.AppendUvarint(meta, uint64(pos[i]))
		meta = binary.AppendVarint(meta, at)
		meta = binary.AppendVarint(meta, int64(e.Status))
		meta = binary.AppendVarint(meta, int64(e.Duration))
		for _, s := range [...]string{e.Method, e.Path, e.Query, e.Client, e.ResourceType, e.ResourceID, e.RequestID} {
			meta = binary.AppendUvarint(meta, uint64(len(s)))
			meta = append(meta, s...)
		}
		meta = binary.AppendUvarint(meta, uint64(len(e.RequestBody)))
		meta = binary.AppendUvarint(meta, uint64(len(e.ResponseBody)))
		body = append(body, e.RequestBody...)
		body = append(body, e.ResponseBody...)
	}
	b.meta = zenc.EncodeAll(meta, make([]byte, 0, len(meta)/4+64))
	b.bodies = zenc.EncodeAll(body, make([]byte, 0, len(body)/4+64))
	return b
}

// decodeMeta reads the entries of a block's meta part, in position order,
// and the decompressed size of the bodies part they locate.
func decodeMeta(meta []byte) ([]blockEntry, int, error) {
	zstdInit()
	raw, err := zdec.DecodeAll(meta, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", errBlock, err)
	}
	return parseMeta(raw)
}

// parseMeta reads an uncompressed meta part. It returns the entries and the
// total size of the bodies they locate.
func parseMeta(raw []byte) ([]blockEntry, int, error) {
	r := metaReader{s: string(raw)}
	if r.byte() != blockVersion {
		return nil, 0, errBlock
	}
	n := r.uvarint()
	// Each entry takes at least 13 bytes: a bound before allocating.
	if r.err != nil || n > uint64(len(raw))/13+1 || n > maxBatchEntries {
		return nil, 0, errBlock
	}
	out := make([]blockEntry, 0, n)
	off, last := 0, -1
	for range n {
		var be blockEntry
		p := r.uvarint()
		if p >= maxBatchEntries || int(p) <= last {
			return nil, 0, errBlock
		}
		be.pos, last = int(p), int(p)
		be.e.At = fromMicros(r.varint())
		st := r.varint()
		if st < 0 || st > math.MaxInt32 {
			return nil, 0, errBlock
		}
		be.e.Status = int(st)
		be.e.Duration = time.Duration(r.varint())
		for _, s := range [...]*string{&be.e.Method, &be.e.Path, &be.e.Query, &be.e.Client, &be.e.ResourceType, &be.e.ResourceID, &be.e.RequestID} {
			*s = r.str()
		}
		rq, rs := r.uvarint(), r.uvarint()
		if r.err != nil || rq > maxDecoded || rs > maxDecoded || off+int(rq)+int(rs) > maxDecoded {
			return nil, 0, errBlock
		}
		be.reqOff, be.reqLen = off, int(rq)
		be.respOff, be.respLen = off+int(rq), int(rs)
		off += int(rq) + int(rs)
		out = append(out, be)
	}
	if r.err != nil || len(r.s) != 0 {
		return nil, 0, errBlock
	}
	return out, off, nil
}

// decodeBodies decompresses a block's bodies part, whose size the meta part
// gave.
func decodeBodies(bodies []byte, want int) ([]byte, error) {
	zstdInit()
	raw, err := zdec.DecodeAll(bodies, make([]byte, 0, want))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBlock, err)
	}
	if len(raw) != want {
		return nil, errBlock
	}
	return raw, nil
}

// withBodies sets be's bodies from a block's decompressed bodies part.
// The slices are copies: one entry kept must not hold the whole block.
func (be *blockEntry) withBodies(raw []byte) {
	be.e.RequestBody = append([]byte{}, raw[be.reqOff:be.reqOff+be.reqLen]...)
	be.e.ResponseBody = append([]byte{}, raw[be.respOff:be.respOff+be.respLen]...)
}

// metaReader reads the varint fields of a meta part; the first error
// sticks. It reads a string, so that every text field of a block is a
// slice of one allocation rather than one allocation each (a search over a
// full log reads hundreds of thousands of them).
type metaReader struct {
	s   string
	err error
}

func (r *metaReader) byte() byte {
	if r.err != nil || len(r.s) == 0 {
		r.err = errBlock
		return 0
	}
	c := r.s[0]
	r.s = r.s[1:]
	return c
}

func (r *metaReader) uvarint() uint64 {
	var v uint64
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if r.err != nil || i >= len(r.s) {
			break
		}
		c := r.s[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break // overflows 64 bits
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			r.s = r.s[i+1:]
			return v
		}
	}
	r.err = errBlock
	return 0
}

func (r *metaReader) varint() int64 {
	u := r.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (r *metaReader) str() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.s)) {
		r.err = errBlock
		return ""
	}
	s := r.s[:n]
	r.s = r.s[n:]
	return s
}
