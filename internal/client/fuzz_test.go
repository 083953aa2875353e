package client

import (
	"bytes"
	"testing"
)

// FuzzDecodeList: any body either decodes or is refused with an error;
// the decoder never panics and never reports more resources than it handed
// to the callback.
func FuzzDecodeList(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"startIndex":1,"itemsPerPage":2,"Resources":[{"id":"a"},{"id":"b"}]}`,
		`{"Resources":[],"nextCursor":"abc","totalResults":"5"}`,
		`{"resources":null}`,
		`{"Resources":[{"id":"a","n":1e400}]}`,
		`{"totalResults":-1,"Resources":[{}]}`,
		`[]`, `{`, `{"Resources":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n := 0
		info, err := decodeList(bytes.NewReader(body), func(Resource) error { n++; return nil })
		if err == nil && info.Count != n {
			t.Fatalf("count %d, callback saw %d", info.Count, n)
		}
	})
}
