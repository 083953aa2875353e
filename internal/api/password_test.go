package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// storedPassword is the password as the store holds it.
func (e *env) storedPassword(id string) string {
	e.t.Helper()
	res, err := e.st.Get(context.Background(), schema.Default().ResourceType("User"), store.DefaultTenant, id, store.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	pw, _ := res.Doc["password"].(string)
	return pw
}

// A User's password is kept only as its argon2id hash, however it arrives:
// POST, PUT, every PATCH form clients send (Entra's capitalised op, Okta's
// value object, the URN path), and Bulk. The response never shows it, the
// hash verifies the password, and sending the same password again changes
// nothing (Okta's PUT carries it on every update).
func TestUserPasswordIsHashed(t *testing.T) {
	e := newEnv(t)
	const pw1, pw2 = "Tr0ub4dor&3-first", "correct horse battery staple"
	u := e.do("POST", "/Users", map[string]any{"schemas": []string{schema.UserURN}, "userName": "hashme", "password": pw1}).want(t, http.StatusCreated)
	if strings.Contains(string(u.raw), pw1) || u.body["password"] != nil {
		t.Fatalf("the response shows the password: %s", u.raw)
	}
	id := u.body["id"].(string)
	check := func(step, want string) string {
		t.Helper()
		h := e.storedPassword(id)
		if !auth.IsPasswordHash(h) || !auth.CheckUserPassword(h, want) {
			t.Fatalf("%s: the store holds %q, not a hash of the password", step, h)
		}
		return h
	}
	h1 := check("POST", pw1)

	// The same password again: same hash, same version.
	v := e.do("GET", "/Users/"+id, nil).want(t, http.StatusOK).body["meta"].(map[string]any)["version"]
	e.do("PUT", "/Users/"+id, map[string]any{"schemas": []string{schema.UserURN}, "userName": "hashme", "password": pw1}).want(t, http.StatusOK)
	if h := check("PUT same", pw1); h != h1 {
		t.Fatal("re-sending the same password rehashed it")
	}
	e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"password","value":"`+pw1+`"}]}`).want(t, http.StatusNoContent)
	if got := e.do("GET", "/Users/"+id, nil).body["meta"].(map[string]any)["version"]; got != v {
		t.Fatalf("version %v after re-sending the same password, was %v", got, v)
	}

	for _, tc := range []struct{ name, body string }{
		{"Entra capitalised op, path", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"password","value":"%s"}]}`},
		{"Okta value object", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"password":"%s","active":true}}]}`},
		{"URN path", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:User:password","value":"%s"}]}`},
		{"URN key in value", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User:password":"%s"}}]}`},
		{"core schema object in value", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User":{"password":"%s"}}}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pw := "pw for " + tc.name
			e.do("PATCH", "/Users/"+id, strings.Replace(tc.body, "%s", pw, 1)).want(t, http.StatusNoContent)
			check(tc.name, pw)
		})
	}

	e.do("PUT", "/Users/"+id, map[string]any{"schemas": []string{schema.UserURN}, "userName": "hashme", "password": pw2}).want(t, http.StatusOK)
	check("PUT new", pw2)
	// A PUT without a password keeps the stored hash (writeOnly).
	e.do("PUT", "/Users/"+id, map[string]any{"schemas": []string{schema.UserURN}, "userName": "hashme", "title": "x"}).want(t, http.StatusOK)
	check("PUT without", pw2)

	bulk := e.do("POST", "/Bulk", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
		"Operations": []any{map[string]any{"method": "POST", "path": "/Users", "bulkId": "b1",
			"data": map[string]any{"schemas": []string{schema.UserURN}, "userName": "bulkhash", "password": pw1}}}}).want(t, http.StatusOK)
	loc, _ := get(bulk.body, "Operations.0.location").(string)
	id = loc[strings.LastIndex(loc, "/")+1:]
	check("Bulk", pw1)

	// An empty string is no value (as for every attribute): no password.
	empty := e.do("POST", "/Users", map[string]any{"schemas": []string{schema.UserURN}, "userName": "empty", "password": ""}).want(t, http.StatusCreated)
	if h := e.storedPassword(empty.body["id"].(string)); h != "" {
		t.Fatalf("an empty password stored as %q", h)
	}
	e.do("POST", "/Users", map[string]any{"schemas": []string{schema.UserURN}, "userName": "long", "password": strings.Repeat("x", 1025)}).want(t, http.StatusBadRequest, "invalidValue")
}
