package provlog

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/store"
)

func TestPrint(t *testing.T) {
	at := time.Date(2026, 11, 23, 13, 20, 1, 123e6, time.UTC)
	es := []store.LogEntry{ // newest first, as QueryLog returns them
		{ID: 2, Tenant: "default", At: at.Add(time.Second), Method: "GET", Path: "/scim/v2/Users/\x1b[31mx", Status: 404, Duration: 1500 * time.Microsecond,
			Client: "oauth:Okta\nfake line", RequestID: "r2", ResponseBody: []byte("not json \xff")},
		{ID: 1, Tenant: "default", At: at, Method: "POST", Path: "/scim/v2/Users", Query: "a=b", Status: 201, Duration: 4100 * time.Microsecond,
			Client: "entra", ResourceType: "User", ResourceID: "u1", RequestID: "r1", RequestBody: []byte(`{"password":"[redacted]"}`)},
	}
	var b bytes.Buffer
	if err := Print(&b, es, false); err != nil {
		t.Fatal(err)
	}
	want := "2026-11-23T13:20:01.123Z #1 default 201 POST /scim/v2/Users?a=b 4.1ms client=entra resource=User/u1 request=r1\n" +
		"2026-11-23T13:20:02.123Z #2 default 404 GET /scim/v2/Users/?[31mx 1.5ms client=oauth:Okta?fake line resource=- request=r2\n"
	if b.String() != want {
		t.Fatalf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := Print(&b, es, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("json lines: %q", b.String())
	}
	var first, second map[string]any
	if json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[1]), &second) != nil {
		t.Fatalf("not JSON: %q", b.String())
	}
	if first["request_body"].(map[string]any)["password"] != "[redacted]" || first["duration_ms"] != 4.1 || first["resource_id"] != "u1" {
		t.Fatalf("first: %v", first)
	}
	if second["response_body"] != "not json \uFFFD" || second["request_body"] != nil {
		t.Fatalf("second: %v", second)
	}
}
