package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkDecodePage decodes a ListResponse of 200 Entra-shaped users the
// way List does (one resource at a time from the stream).
func BenchmarkDecodePage(b *testing.B) {
	var rs []any
	for i := range 200 {
		rs = append(rs, map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
			"id":         fmt.Sprintf("2819c223-7f76-453a-919d-%012d", i),
			"externalId": fmt.Sprintf("user%d-ext", i),
			"userName":   fmt.Sprintf("user%d@contoso.com", i),
			"active":     true,
			"name":       map[string]any{"givenName": "Given", "familyName": "Family", "formatted": "Given Family"},
			"emails":     []any{map[string]any{"value": fmt.Sprintf("user%d@contoso.com", i), "type": "work", "primary": true}},
			"groups":     []any{map[string]any{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Admins", "type": "direct"}},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"employeeNumber": "701984", "department": "Sales"},
			"meta": map[string]any{"resourceType": "User", "created": "2026-11-23T09:00:00Z", "lastModified": "2026-11-23T09:00:00Z", "version": `W/"1"`, "location": "https://h/scim/v2/Users/x"},
		})
	}
	body, _ := json.Marshal(map[string]any{"schemas": []string{ListResponseURN}, "totalResults": 100000, "itemsPerPage": 200, "startIndex": 1, "Resources": rs})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if _, err := decodeList(bytes.NewReader(body), func(Resource) error { n++; return nil }); err != nil || n != 200 {
			b.Fatal(err, n)
		}
	}
}
