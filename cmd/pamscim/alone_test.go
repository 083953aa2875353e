package main

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefreshTokenAloneCLI: the setting at creation, in the listing, and
// changed later by update-client, which the audit trail records.
func TestRefreshTokenAloneCLI(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	must := func(args ...string) string {
		t.Helper()
		out, errOut, err := run(t, append(args, "--data", data)...)
		if err != nil {
			t.Fatalf("%v: %v %s", args, err, errOut)
		}
		return out
	}
	// alone reads the REFRESH ALONE column of a client's row.
	alone := func(name string) string {
		t.Helper()
		lines := strings.Split(must("oauth", "list-clients"), "\n")
		if f := strings.Fields(lines[0]); len(f) < 9 || f[6] != "GRANTS" || f[7] != "REFRESH" || f[8] != "ALONE" {
			t.Fatalf("no REFRESH ALONE column after GRANTS: %q", lines[0])
		}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) > 6 && f[1] == name {
				return f[6] // tenant name id auth scopes grants alone …
			}
		}
		t.Fatalf("client %s not listed", name)
		return ""
	}

	var obj map[string]any
	if err := json.Unmarshal([]byte(must("oauth", "create-client", "--name", "beyondinsight", "--refresh-token-alone", "--json")), &obj); err != nil || obj["refresh_token_alone"] != true {
		t.Fatalf("--json: %v %v", obj, err)
	}
	id := obj["client_id"].(string)
	must("oauth", "create-client", "--name", "okta")
	if a, b := alone("beyondinsight"), alone("okta"); a != "yes" || b != "no" {
		t.Fatalf("listed: beyondinsight %s, okta %s", a, b)
	}

	for _, step := range []struct {
		value, want, state string
	}{
		{"false", "no", "changed"},
		{"false", "no", "unchanged"},
		{"true", "yes", "changed"},
	} {
		out := must("oauth", "update-client", id, "--refresh-token-alone="+step.value)
		if kv(out, "client_id") != id || kv(out, "refresh_token_alone") != step.value+" ("+step.state+")" {
			t.Fatalf("update-client %s: %q", step.value, out)
		}
		if got := alone("beyondinsight"); got != step.want {
			t.Fatalf("after update-client %s: listed %s", step.value, got)
		}
	}
	if trail := must("audit", "--event", "client.changed"); strings.Count(trail, "client.changed") != 2 || !strings.Contains(trail, "refresh_token_alone=true") {
		t.Fatalf("audit:\n%s", trail)
	}

	for _, args := range [][]string{
		{"oauth", "update-client", id},
		{"oauth", "update-client", "--refresh-token-alone=true"},
		{"oauth", "create-client", "--name", "x", "--grants", "client_credentials", "--refresh-token-alone"},
	} {
		_, _, err := run(t, append(args, "--data", data)...)
		if err == nil || !errors.As(err, new(usageError)) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	ccOnly := kv(must("oauth", "create-client", "--name", "cc", "--grants", "client_credentials"), "client_id")
	for _, args := range [][]string{
		{"oauth", "update-client", "no-such-client", "--refresh-token-alone=true"},
		{"oauth", "update-client", ccOnly, "--refresh-token-alone=true"},
	} {
		if _, _, err := run(t, append(args, "--data", data)...); err == nil || errors.As(err, new(usageError)) {
			t.Errorf("%v: %v, want an operational error", args, err)
		}
	}
}
