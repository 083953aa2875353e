package api

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// cursorTimeout is how long a cursor stays valid after the page that
// issued it (advertised as pagination.cursorTimeout).
const cursorTimeout = time.Hour

// cursorState is what a cursor carries: a position in the query's order,
// the direction, the count of the first request and the total it saw.
type cursorState struct {
	Sort    json.RawMessage `json:"s,omitempty"`
	ID      string          `json:"i"`
	Prev    bool            `json:"p,omitempty"`
	Count   int             `json:"c"`
	Total   int             `json:"t"`
	Expires int64           `json:"e"`
}

// cursors seals cursor states with AES-256-GCM. The additional data binds a
// cursor to the tenant, the token and the query, so that a forged, altered
// or foreign cursor fails to open (RFC 9865 §5).
type cursors struct {
	st   store.Store
	mu   sync.Mutex
	aead cipher.AEAD
}

// cipher loads the key from the store on first use; a failure is retried
// on the next request rather than remembered.
func (c *cursors) cipher(ctx context.Context) (cipher.AEAD, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aead != nil {
		return c.aead, nil
	}
	key, err := c.st.Secret(ctx, "cursor-key", func() []byte {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	})
	if err != nil {
		return nil, err
	}
	k := sha256.Sum256(append([]byte("pamscim cursor v1\x00"), key...))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	if c.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return c.aead, nil
}

// binding is the additional data a cursor is sealed with.
func cursorBinding(tenant, token, rtype string, sr *searchRequest) []byte {
	var b bytes.Buffer
	for _, s := range []string{"v1", tenant, token, rtype, sr.Filter, strings.ToLower(sr.SortBy), strings.ToLower(sr.SortOrder),
		strings.ToLower(strings.Join(sr.Attributes, ",")), strings.ToLower(strings.Join(sr.ExcludedAttributes, ","))} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	h := sha256.Sum256(b.Bytes())
	return h[:]
}

func (c *cursors) seal(ctx context.Context, st cursorState, ad []byte) (string, error) {
	aead, err := c.cipher(ctx)
	if err != nil {
		return "", err
	}
	plain, _ := json.Marshal(st)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, ad)), nil
}

func (c *cursors) open(ctx context.Context, s string, ad []byte, now time.Time) (*cursorState, error) {
	aead, err := c.cipher(ctx)
	if err != nil {
		return nil, err
	}
	invalid := scimerr.New(scimerr.InvalidCursor, "the cursor is not one this server issued for this query; start again with an empty cursor")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() || len(s) > 4096 {
		return nil, invalid
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], ad)
	if err != nil {
		return nil, invalid
	}
	var st cursorState
	if err := json.Unmarshal(plain, &st); err != nil {
		return nil, invalid
	}
	if now.Unix() > st.Expires {
		return nil, scimerr.New(scimerr.ExpiredCursor, "the cursor expired; cursors are valid for %d seconds after the page that issued them", int(cursorTimeout.Seconds()))
	}
	return &st, nil
}

// sortValue decodes a sort key kept in a cursor back into the type the
// database compared (text, integer or real).
func sortValue(raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	if n, ok := v.(json.Number); ok {
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return i
		}
		f, _ := n.Float64()
		return f
	}
	return v
}

func keyState(k *store.Key) cursorState {
	raw, _ := json.Marshal(k.Sort)
	return cursorState{Sort: raw, ID: k.ID}
}
