package api_test

import (
	"bytes"
	"testing"
)

// TestCreateAnswerIsWhatGetReads: the 201 body of a create, rendered from
// the document in hand (its groups not read: a new resource has none), is
// byte for byte what a GET of the stored resource answers.
func TestCreateAnswerIsWhatGetReads(t *testing.T) {
	e := newEnv(t)
	member := e.do("POST", "/Users", `{"userName":"member-of-created-group","displayName":"Member"}`).want(t, 201).body["id"].(string)
	tests := []struct {
		name, endpoint, body string
	}{
		{"Entra user", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"externalId":"e-1","userName":"entra@contoso.com","active":"True","name":{"givenName":"G","familyName":"F","formatted":"G F"},
			"emails":[{"value":"entra@contoso.com","type":"work","primary":true}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"Sales","manager":{"value":"m-1"}}}`},
		{"minimal user", "/Users", `{"userName":"minimal"}`},
		{"group without members", "/Groups", `{"displayName":"empty group"}`},
		{"group with a member", "/Groups", `{"displayName":"one member","members":[{"value":"` + member + `"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			created := e.do("POST", tc.endpoint, tc.body).want(t, 201)
			id, _ := created.body["id"].(string)
			read := e.do("GET", tc.endpoint+"/"+id, nil).want(t, 200)
			if !bytes.Equal(created.raw, read.raw) {
				t.Fatalf("POST answered\n%s\nGET answers\n%s", created.raw, read.raw)
			}
			if created.header.Get("ETag") != read.header.Get("ETag") {
				t.Fatalf("ETag %q, then %q", created.header.Get("ETag"), read.header.Get("ETag"))
			}
		})
	}
	// The member's groups show the new group once it exists.
	u := e.do("GET", "/Users/"+member, nil).want(t, 200)
	if gs, _ := u.body["groups"].([]any); len(gs) != 1 {
		t.Fatalf("member's groups: %v", u.body["groups"])
	}
}
