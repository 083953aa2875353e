package verify

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/client"
)

// checks in run order. Names are stable: scripts select them with --only.
var checks = []Check{
	// Discovery.
	{"discovery.service-provider-config", "RFC 7643 §5", "ServiceProviderConfig is served with its schema and every feature object", checkSPConfig},
	{"discovery.resource-types", "RFC 7643 §6", "ResourceTypes lists User and Group with endpoints and schemas", checkResourceTypes},
	{"discovery.schemas", "RFC 7643 §7", "Schemas holds every schema and extension a resource type names", checkSchemas},
	{"discovery.endpoints-answer", "RFC 7643 §6", "every advertised resource type's endpoint answers a list request", checkEndpointsAnswer},
	{"discovery.schema-matches-behaviour", "RFC 7643 §7", "attributes the server returns for a User are declared in /Schemas", checkSchemaMatches},

	// CRUD.
	{"crud.create-user", "RFC 7644 §3.3", "POST /Users answers 201 with id, meta and a Location equal to meta.location", checkCreateUser},
	{"crud.get-user", "RFC 7644 §3.4.1", "GET /Users/{id} returns the stored user", checkGetUser},
	{"crud.replace-user", "RFC 7644 §3.5.1", "PUT replaces the user and returns it", checkReplaceUser},
	{"crud.put-own-output", "RFC 7644 §3.5.1", "PUT of the server's own GET output (Okta's update) is accepted", checkPutOwnOutput},
	{"crud.delete-user", "RFC 7644 §3.6", "DELETE answers 204 and the user is gone (404)", checkDeleteUser},
	{"crud.group-members", "RFC 7643 §4.2", "a group created with members returns them", checkGroupMembers},
	{"crud.user-groups", "RFC 7643 §4.1.2", "a user's groups attribute lists the groups it belongs to", checkUserGroups},

	// Uniqueness.
	{"uniqueness.username", "RFC 7644 §3.3", "a second user with the same userName is 409 uniqueness", checkUniqueness},
	{"uniqueness.username-case", "RFC 7643 §4.1.1", "userName uniqueness ignores case (caseExact false)", checkUniquenessCase},

	// Filters.
	{"filter.eq", "RFC 7644 §3.4.2.2", `userName eq finds exactly one user`, checkFilterEq},
	{"filter.no-match", "RFC 7644 §3.4.2", "a filter matching nothing is 200 with totalResults 0", checkFilterNoMatch},
	{"filter.case-insensitive", "RFC 7644 §3.4.2.2", "userName eq matches regardless of case", checkFilterCase},
	{"filter.and-sw", "RFC 7644 §3.4.2.2", "sw and and combine", checkFilterAndSw},
	{"filter.value-path", "RFC 7644 §3.4.2.2", `emails[type eq "work"].value eq (Entra's matching)`, checkFilterValuePath},
	{"filter.external-id", "RFC 7643 §3.1", "externalId eq (Entra's matching)", checkFilterExternalID},
	{"filter.group-display-name", "RFC 7644 §3.4.2.2", "displayName eq on Groups, with excludedAttributes=members", checkFilterGroup},
	{"filter.last-modified", "RFC 7644 §3.4.2.2", "meta.lastModified gt (incremental export, SailPoint delta)", checkFilterLastModified},
	{"filter.invalid", "RFC 7644 §3.4.2.2", "an unparseable filter is 400 invalidFilter", checkFilterInvalid},
	{"sort.sort-by", "RFC 7644 §3.4.2.3", "sortBy and sortOrder order the result", checkSort},

	// Paging.
	{"paging.index", "RFC 7644 §3.4.2.4", "startIndex/count pages cover the result once, with startIndex echoed", checkPagingIndex},
	{"paging.count-zero", "RFC 7644 §3.4.2.4", "count=0 returns totalResults and no resources", checkPagingCountZero},
	{"paging.cursor", "RFC 9865 §3", "cursor pages cover the result once and end without nextCursor", checkPagingCursor},
	{"paging.cursor-invalid", "RFC 9865 §3.3", "an unknown cursor is 400 invalidCursor", checkCursorInvalid},

	// Projection.
	{"projection.attributes", "RFC 7644 §3.4.2.5", "attributes= returns only those (plus id, schemas)", checkProjAttributes},
	{"projection.excluded-attributes", "RFC 7644 §3.4.2.5", "excludedAttributes= leaves those out", checkProjExcluded},
	{"projection.password-never-returned", "RFC 7643 §4.1.1", "password (returned: never) never comes back", checkPasswordNever},

	// PATCH.
	{"patch.replace", "RFC 7644 §3.5.2.3", "replace with a path changes one sub-attribute", checkPatchReplace},
	{"patch.add", "RFC 7644 §3.5.2.1", "add sets a new attribute and appends to a multi-valued one", checkPatchAdd},
	{"patch.remove", "RFC 7644 §3.5.2.2", "remove clears an attribute", checkPatchRemove},
	{"patch.value-filter", "RFC 7644 §3.5.2", `replace emails[type eq "work"].value changes only that email`, checkPatchValueFilter},
	{"patch.members", "RFC 7644 §3.5.2.2", `add members, then remove members[value eq "…"] removes only that one`, checkPatchMembers},
	{"patch.invalid-path", "RFC 7644 §3.5.2", "a path naming no attribute is 400 invalidPath or noTarget", checkPatchInvalidPath},
	{"patch.concurrent-members", "RFC 7644 §3.5.2.1", "five concurrent member adds to one group all land (Entra sends them)", checkConcurrentMembers},
	{"dialect.okta-no-path-replace", "RFC 7644 §3.5.2.3", `Okta: {"op":"replace","value":{"active":false}}`, checkOktaNoPath},
	{"dialect.okta-group-rename", "RFC 7644 §3.5.2.3", "Okta: replace without path carrying the group's own id", checkOktaGroupRename},
	{"dialect.entra-capitalised-ops", "RFC 7644 §3.5.2", `Entra: "Replace" with active "False" (a string)`, checkEntraCapital},
	{"dialect.entra-remove-member-value", "RFC 7644 §3.5.2.2", "Entra: Remove members with a value list removes only those", checkEntraRemoveValue},
	{"dialect.entra-dotted-no-path", "RFC 7644 §3.5.2.3", "Entra (aadOptscim062020): dotted and URN keys in a no-path replace", checkEntraDotted},
	{"dialect.entra-add-creates-filtered", "RFC 7644 §3.5.2.1", `Entra: add phoneNumbers[type eq "mobile"].value creates the element`, checkEntraCreateOnAbsent},
	{"dialect.entra-manager-string", "RFC 7643 §4.3", "Entra: the enterprise manager as a bare id string", checkEntraManager},
	{"dialect.netwrix-quoted-boolean", "RFC 7644 §3.4.2.2", `Netwrix: active eq "true" (a quoted boolean)`, checkNetwrixBoolean},

	// ETags.
	{"etag.header", "RFC 7644 §3.14", "responses carry an ETag equal to meta.version", checkETagHeader},
	{"etag.if-none-match", "RFC 7644 §3.14", "GET with a matching If-None-Match is 304", checkIfNoneMatch},
	{"etag.if-match", "RFC 7644 §3.14", "a write with a stale If-Match is 412 and changes nothing", checkIfMatch},

	// Bulk.
	{"bulk.create-with-bulkid", "RFC 7644 §3.7.2", "a Bulk POST of a user and a group referring to it by bulkId", checkBulkCreate},
	{"bulk.per-operation-errors", "RFC 7644 §3.7.3", "a failing operation gets its own status; the others still run", checkBulkErrors},
	{"bulk.max-operations", "RFC 7644 §3.7.4", "more operations than maxOperations is 413", checkBulkMax},

	// Errors and protocol.
	{"errors.not-found", "RFC 7644 §3.12", "an unknown id is 404 with a SCIM error body", checkNotFound},
	{"errors.unauthorized", "RFC 7644 §2", "a request without credentials is 401", checkUnauthorized},
	{"errors.malformed-json", "RFC 7644 §3.12", "a body that is not JSON is 400 invalidSyntax", checkMalformed},
	{"errors.content-type", "RFC 7644 §8.1", "every JSON answer of this run was application/scim+json", checkContentType},
}

// ----- discovery ---------------------------------------------------------

func checkSPConfig(r *run) error {
	x, err := r.do("GET", "/ServiceProviderConfig", nil, nil)
	if err != nil {
		return err
	}
	if err := x.want(200); err != nil {
		return err
	}
	if !slices.Contains(strs(x.body["schemas"]), spConfigURN) {
		return failf("schemas lacks %s: %s", spConfigURN, x)
	}
	for _, f := range []string{"patch", "bulk", "filter", "changePassword", "sort", "etag"} {
		if _, ok := at(x.body, f+".supported").(bool); !ok {
			return failf("%s.supported is missing or not a boolean", f)
		}
	}
	if at(x.body, "bulk.supported") == true {
		if n, ok := num(at(x.body, "bulk.maxOperations")); !ok || n <= 0 {
			return failf("bulk is supported but maxOperations is %v", at(x.body, "bulk.maxOperations"))
		}
	}
	if len(arr(x.body["authenticationSchemes"])) == 0 {
		return failf("authenticationSchemes is empty; RFC 7643 §5 requires it")
	}
	return nil
}

func checkResourceTypes(r *run) error {
	x, err := r.do("GET", "/ResourceTypes", nil, nil)
	if err != nil {
		return err
	}
	if err := x.want(200); err != nil {
		return err
	}
	want := map[string]string{"User": "/Users", "Group": "/Groups"}
	for name, ep := range want {
		found := false
		for _, it := range arr(x.body["Resources"]) {
			if strings.EqualFold(fmt.Sprint(at(it, "name")), name) {
				found = true
				if got := fmt.Sprint(at(it, "endpoint")); got != ep {
					return failf("resource type %s has endpoint %q, want %q", name, got, ep)
				}
				if s, _ := at(it, "schema").(string); s == "" {
					return failf("resource type %s has no schema", name)
				}
			}
		}
		if !found {
			return failf("/ResourceTypes does not list %s", name)
		}
		one, err := r.do("GET", "/ResourceTypes/"+name, nil, nil)
		if err != nil {
			return err
		}
		if err := one.want(200); err != nil {
			return err
		}
	}
	return nil
}

func checkSchemas(r *run) error {
	d, err := r.discovery()
	if err != nil {
		return err
	}
	if len(d.ResourceTypes) == 0 {
		return failf("/ResourceTypes is missing or empty")
	}
	for _, rt := range d.ResourceTypes {
		need := []string{rt.Schema}
		for _, e := range rt.SchemaExtensions {
			need = append(need, e.Schema)
		}
		for _, s := range need {
			if d.Schema(s) == nil {
				return failf("resource type %s names schema %s, which /Schemas does not hold", rt.Name, s)
			}
			x, err := r.do("GET", "/Schemas/"+s, nil, nil)
			if err != nil {
				return err
			}
			if err := x.want(200); err != nil {
				return err
			}
			if x.body["id"] != s {
				return failf("GET /Schemas/%s returned id %v", s, x.body["id"])
			}
		}
	}
	u := d.Schema(userURN)
	if u == nil || u.Attr("userName") == nil {
		return failf("the core User schema does not declare userName")
	}
	if a := u.Attr("userName"); a.Uniqueness != "server" && a.Uniqueness != "global" {
		return failf("userName has uniqueness %q, RFC 7643 §4.1.1 says server", a.Uniqueness)
	}
	return nil
}

func checkEndpointsAnswer(r *run) error {
	d, err := r.discovery()
	if err != nil {
		return err
	}
	if len(d.ResourceTypes) == 0 {
		return failf("/ResourceTypes is missing or empty")
	}
	for _, rt := range d.ResourceTypes {
		if _, _, _, err := r.list(rt.Endpoint, q("count", "1")); err != nil {
			return fmt.Errorf("resource type %s: %w", rt.Name, err)
		}
	}
	return nil
}

func checkSchemaMatches(r *run) error {
	d, err := r.discovery()
	if err != nil {
		return err
	}
	us := d.Schema(userURN)
	if us == nil {
		return skipf("no core User schema in /Schemas (discovery.schemas reports it)")
	}
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	_ = x
	for k := range g.body {
		if k == "schemas" || k == "id" || k == "meta" || k == "externalId" || strings.HasPrefix(strings.ToLower(k), "urn:") {
			continue // common attributes (RFC 7643 §3.1) and extension objects
		}
		if us.Attr(k) == nil {
			return failf("the server returns %q for a User, but the User schema does not declare it", k)
		}
	}
	return nil
}

// ----- CRUD --------------------------------------------------------------

func checkCreateUser(r *run) error {
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	if !slices.Contains(strs(x.body["schemas"]), userURN) {
		return failf("the created user's schemas lacks %s", userURN)
	}
	for _, m := range []string{"resourceType", "created", "lastModified", "location"} {
		if s, _ := at(x.body, "meta."+m).(string); s == "" {
			return failf("the created user has no meta.%s", m)
		}
	}
	if at(x.body, "meta.resourceType") != "User" {
		return failf("meta.resourceType is %v", at(x.body, "meta.resourceType"))
	}
	loc := x.header.Get("Location")
	if loc == "" || loc != at(x.body, "meta.location") {
		return failf("Location header %q differs from meta.location %v", loc, at(x.body, "meta.location"))
	}
	if !strings.HasSuffix(loc, "/"+url.PathEscape(id)) && !strings.HasSuffix(loc, "/"+id) {
		return failf("Location %q does not end in the id %s", loc, id)
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(at(x.body, "meta.created"))); err != nil {
		return failf("meta.created is not an RFC 3339 date-time: %v", at(x.body, "meta.created"))
	}
	return nil
}

func checkGetUser(r *run) error {
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	for _, a := range []string{"id", "userName", "externalId", "name.givenName", "emails.0.value", "active"} {
		if fmt.Sprint(at(g.body, a)) != fmt.Sprint(at(x.body, a)) {
			return failf("%s is %v on GET but %v on create", a, at(g.body, a), at(x.body, a))
		}
	}
	return nil
}

func checkReplaceUser(r *run) error {
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	doc := r.userDoc(map[string]any{"userName": x.body["userName"], "displayName": "Replaced", "title": "Engineer"})
	delete(doc, "emails")
	p, err := r.do("PUT", client.ResourcePath("/Users", id), nil, doc)
	if err != nil {
		return err
	}
	if err := p.want(200); err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	if at(g.body, "displayName") != "Replaced" || at(g.body, "title") != "Engineer" {
		return failf("after PUT: displayName %v title %v", at(g.body, "displayName"), at(g.body, "title"))
	}
	if len(arr(at(g.body, "emails"))) != 0 {
		return failf("PUT without emails kept them: %v (RFC 7644 §3.5.1: attributes not given are cleared)", at(g.body, "emails"))
	}
	return nil
}

func checkPutOwnOutput(r *run) error {
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	doc := g.body
	if nm, ok := doc["name"].(map[string]any); ok {
		nm["middleName"] = "Excited"
	}
	doc["groups"] = []any{}
	p, err := r.do("PUT", client.ResourcePath("/Users", id), nil, doc)
	if err != nil {
		return err
	}
	if err := p.want(200); err != nil {
		return err
	}
	if at(p.body, "name.middleName") != "Excited" || at(p.body, "id") != id {
		return failf("after PUT: %s", p)
	}
	return nil
}

func checkDeleteUser(r *run) error {
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	d, err := r.do("DELETE", client.ResourcePath("/Users", id), nil, nil)
	if err != nil {
		return err
	}
	if err := d.want(204); err != nil {
		return err
	}
	r.forget("/Users", id)
	g, err := r.do("GET", client.ResourcePath("/Users", id), nil, nil)
	if err != nil {
		return err
	}
	return scimError(g, 404, "")
}

func checkGroupMembers(r *run) error {
	_, u1, err := r.newUser(nil)
	if err != nil {
		return err
	}
	_, u2, err := r.newUser(nil)
	if err != nil {
		return err
	}
	_, gid, err := r.newGroup(u1, u2)
	if err != nil {
		return err
	}
	g, err := r.get("/Groups", gid, nil)
	if err != nil {
		return err
	}
	want := []string{u1, u2}
	slices.Sort(want)
	if got := memberIDs(g.body); !slices.Equal(got, want) {
		return failf("members %v, want %v", got, want)
	}
	return nil
}

func checkUserGroups(r *run) error {
	_, u, err := r.newUser(nil)
	if err != nil {
		return err
	}
	_, gid, err := r.newGroup(u)
	if err != nil {
		return err
	}
	g, err := r.get("/Users", u, nil)
	if err != nil {
		return err
	}
	for _, it := range arr(at(g.body, "groups")) {
		if at(it, "value") == gid {
			return nil
		}
	}
	return failf("the user's groups %v does not list group %s (SailPoint reads entitlements from it)", jsonString(at(g.body, "groups")), gid)
}

// ----- uniqueness --------------------------------------------------------

func checkUniqueness(r *run) error {
	x, _, err := r.newUser(nil)
	if err != nil {
		return err
	}
	d, err := r.do("POST", "/Users", nil, r.userDoc(map[string]any{"userName": x.body["userName"]}))
	if err != nil {
		return err
	}
	if d.status == 201 {
		id, _ := d.body["id"].(string)
		r.track("/Users", id)
	}
	return scimError(d, 409, "uniqueness")
}

func checkUniquenessCase(r *run) error {
	x, _, err := r.newUser(nil)
	if err != nil {
		return err
	}
	d, err := r.do("POST", "/Users", nil, r.userDoc(map[string]any{"userName": strings.ToUpper(fmt.Sprint(x.body["userName"]))}))
	if err != nil {
		return err
	}
	if d.status == 201 {
		id, _ := d.body["id"].(string)
		r.track("/Users", id)
	}
	return scimError(d, 409, "uniqueness")
}

// ----- filters -----------------------------------------------------------

func (r *run) needFilter() error {
	if !r.sp().Filter.Supported {
		return skipf("ServiceProviderConfig says filter.supported is false")
	}
	return nil
}

// expectOnly runs a filter and requires exactly the ids given.
func (r *run) expectOnly(endpoint, filter string, want ...string) error {
	if err := r.needFilter(); err != nil {
		return err
	}
	x, ids, total, err := r.list(endpoint, q("filter", filter))
	if err != nil {
		return err
	}
	slices.Sort(ids)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(ids, w) || total != len(w) {
		return failf("filter %s: totalResults %d, ids %v; want %d: %v (%s)", filter, total, ids, len(w), w, x)
	}
	for _, it := range arr(x.body["Resources"]) {
		if len(strs(at(it, "schemas"))) == 0 {
			return failf("a resource in the ListResponse has no schemas (SailPoint rejects it)")
		}
	}
	return nil
}

func checkFilterEq(r *run) error {
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	if _, _, err := r.newUser(nil); err != nil {
		return err
	}
	return r.expectOnly("/Users", fmt.Sprintf("userName eq %q", x.body["userName"]), id)
}

func checkFilterNoMatch(r *run) error {
	if err := r.needFilter(); err != nil {
		return err
	}
	x, ids, total, err := r.list("/Users", q("filter", fmt.Sprintf("userName eq %q", r.name("absent"))))
	if err != nil {
		return err
	}
	if total != 0 || len(ids) != 0 {
		return failf("expected no match: %s", x)
	}
	return nil
}

func checkFilterCase(r *run) error {
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	return r.expectOnly("/Users", fmt.Sprintf("userName eq %q", strings.ToUpper(fmt.Sprint(x.body["userName"]))), id)
}

func checkFilterAndSw(r *run) error {
	stem := r.name("sw")
	var want []string
	for i, active := range []bool{true, true, false} {
		_, id, err := r.newUser(map[string]any{"userName": fmt.Sprintf("%s-%d", stem, i), "active": active})
		if err != nil {
			return err
		}
		if active {
			want = append(want, id)
		}
	}
	return r.expectOnly("/Users", fmt.Sprintf("userName sw %q and active eq true", stem), want...)
}

func checkFilterValuePath(r *run) error {
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	return r.expectOnly("/Users", fmt.Sprintf(`emails[type eq "work"].value eq %q`, at(x.body, "emails.0.value")), id)
}

func checkFilterExternalID(r *run) error {
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	return r.expectOnly("/Users", fmt.Sprintf(`externalId eq %q`, x.body["externalId"]), id)
}

func checkFilterGroup(r *run) error {
	if err := r.needFilter(); err != nil {
		return err
	}
	_, u, err := r.newUser(nil)
	if err != nil {
		return err
	}
	g, gid, err := r.newGroup(u)
	if err != nil {
		return err
	}
	if _, _, err := r.newGroup(); err != nil {
		return err
	}
	x, ids, total, err := r.list("/Groups", q("filter", fmt.Sprintf("displayName eq %q", g.body["displayName"]), "excludedAttributes", "members"))
	if err != nil {
		return err
	}
	if total != 1 || len(ids) != 1 || ids[0] != gid {
		return failf("displayName eq: %s", x)
	}
	if has(arr(x.body["Resources"])[0].(map[string]any), "members") {
		return failf("excludedAttributes=members still returned members")
	}
	return nil
}

func checkFilterLastModified(r *run) error {
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	lm, err := time.Parse(time.RFC3339Nano, fmt.Sprint(at(x.body, "meta.lastModified")))
	if err != nil {
		return failf("meta.lastModified %v is not an RFC 3339 date-time", at(x.body, "meta.lastModified"))
	}
	name := fmt.Sprint(x.body["userName"])
	before := lm.Add(-time.Hour).UTC().Format(time.RFC3339)
	after := lm.Add(time.Hour).UTC().Format(time.RFC3339)
	if err := r.expectOnly("/Users", fmt.Sprintf("meta.lastModified gt %q and userName eq %q", before, name), id); err != nil {
		return err
	}
	return r.expectOnly("/Users", fmt.Sprintf("meta.lastModified gt %q and userName eq %q", after, name))
}

func checkFilterInvalid(r *run) error {
	if err := r.needFilter(); err != nil {
		return err
	}
	for _, f := range []string{`userName zz "x"`, `userName eq`, `(userName eq "x"`} {
		x, err := r.do("GET", "/Users", q("filter", f), nil)
		if err != nil {
			return err
		}
		if err := scimError(x, 400, "invalidFilter"); err != nil {
			return fmt.Errorf("filter %s: %w", f, err)
		}
	}
	return nil
}

func checkSort(r *run) error {
	if !r.sp().Sort.Supported {
		return skipf("ServiceProviderConfig says sort.supported is false")
	}
	if err := r.needFilter(); err != nil {
		return err
	}
	stem := r.name("sort")
	names := []string{stem + "-b", stem + "-c", stem + "-a"}
	for _, n := range names {
		if _, _, err := r.newUser(map[string]any{"userName": n}); err != nil {
			return err
		}
	}
	for _, order := range []string{"ascending", "descending"} {
		x, _, _, err := r.list("/Users", q("filter", fmt.Sprintf("userName sw %q", stem), "sortBy", "userName", "sortOrder", order))
		if err != nil {
			return err
		}
		var got []string
		for _, it := range arr(x.body["Resources"]) {
			got = append(got, fmt.Sprint(at(it, "userName")))
		}
		want := []string{stem + "-a", stem + "-b", stem + "-c"}
		if order == "descending" {
			slices.Reverse(want)
		}
		if !slices.Equal(got, want) {
			return failf("sortBy=userName sortOrder=%s gave %v, want %v", order, got, want)
		}
	}
	return nil
}

// ----- paging ------------------------------------------------------------

// pagingSet creates n users sharing a prefix and returns the filter and ids.
func (r *run) pagingSet(n int) (string, []string, error) {
	stem := r.name("page")
	var ids []string
	for i := range n {
		_, id, err := r.newUser(map[string]any{"userName": fmt.Sprintf("%s-%02d", stem, i)})
		if err != nil {
			return "", nil, err
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return fmt.Sprintf("userName sw %q", stem), ids, nil
}

func checkPagingIndex(r *run) error {
	if err := r.needFilter(); err != nil {
		return err
	}
	filter, want, err := r.pagingSet(7)
	if err != nil {
		return err
	}
	var got []string
	for start := 1; start <= 7; start += 3 {
		x, ids, total, err := r.list("/Users", q("filter", filter, "startIndex", strconv.Itoa(start), "count", "3"))
		if err != nil {
			return err
		}
		if total != 7 {
			return failf("page at startIndex %d: totalResults %d, want 7", start, total)
		}
		if si, _ := num(x.body["startIndex"]); si != start {
			return failf("page at startIndex %d echoed startIndex %v", start, x.body["startIndex"])
		}
		wantLen := min(3, 7-start+1)
		if len(ids) != wantLen {
			return failf("page at startIndex %d held %d resources, want %d", start, len(ids), wantLen)
		}
		if ipp, _ := num(x.body["itemsPerPage"]); ipp != len(ids) {
			return failf("page at startIndex %d: itemsPerPage %v but %d resources", start, x.body["itemsPerPage"], len(ids))
		}
		got = append(got, ids...)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return failf("the pages held %v, want each of %v once", got, want)
	}
	return nil
}

func checkPagingCountZero(r *run) error {
	if err := r.needFilter(); err != nil {
		return err
	}
	filter, _, err := r.pagingSet(2)
	if err != nil {
		return err
	}
	x, ids, total, err := r.list("/Users", q("filter", filter, "count", "0"))
	if err != nil {
		return err
	}
	if total != 2 || len(ids) != 0 {
		return failf("count=0: totalResults %d with %d resources; want 2 and none", total, len(ids))
	}
	_ = x
	return nil
}

func (r *run) needCursor() error {
	if !r.sp().CursorPaging() {
		return skipf("ServiceProviderConfig does not advertise pagination.cursor")
	}
	return nil
}

func checkPagingCursor(r *run) error {
	if err := r.needCursor(); err != nil {
		return err
	}
	if err := r.needFilter(); err != nil {
		return err
	}
	filter, want, err := r.pagingSet(7)
	if err != nil {
		return err
	}
	var got []string
	cur := ""
	for page := 0; ; page++ {
		if page > 5 {
			return failf("more than 5 pages of 3 for 7 users: nextCursor never ends")
		}
		x, ids, total, err := r.list("/Users", q("filter", filter, "count", "3", "cursor", cur))
		if err != nil {
			return err
		}
		if page == 0 && total != 7 {
			return failf("first cursor page: totalResults %d, want 7", total)
		}
		got = append(got, ids...)
		next, _ := x.body["nextCursor"].(string)
		if next == "" {
			break
		}
		cur = next
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return failf("the cursor pages held %v, want each of %v once", got, want)
	}
	return nil
}

func checkCursorInvalid(r *run) error {
	if err := r.needCursor(); err != nil {
		return err
	}
	x, err := r.do("GET", "/Users", q("cursor", "not-a-cursor-"+r.prefix, "count", "3"), nil)
	if err != nil {
		return err
	}
	return scimError(x, 400, "invalidCursor")
}

// ----- projection --------------------------------------------------------

func checkProjAttributes(r *run) error {
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	g, err := r.get("/Users", id, q("attributes", "userName,name.familyName"))
	if err != nil {
		return err
	}
	if !has(g.body, "id") || !has(g.body, "userName") || at(g.body, "name.familyName") == nil {
		return failf("attributes=userName,name.familyName lost requested or always-returned attributes: %s", g)
	}
	if has(g.body, "emails") || has(g.body, "active") || at(g.body, "name.givenName") != nil {
		return failf("attributes=userName,name.familyName still returned other attributes: %s", g)
	}
	return nil
}

func checkProjExcluded(r *run) error {
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	g, err := r.get("/Users", id, q("excludedAttributes", "emails,name"))
	if err != nil {
		return err
	}
	if has(g.body, "emails") || has(g.body, "name") {
		return failf("excludedAttributes=emails,name still returned them: %s", g)
	}
	if !has(g.body, "userName") || !has(g.body, "id") {
		return failf("excludedAttributes removed more than asked: %s", g)
	}
	return nil
}

func checkPasswordNever(r *run) error {
	x, id, err := r.newUser(map[string]any{"password": "1mz050nq-Okta"})
	if err != nil {
		return err
	}
	if has(x.body, "password") {
		return failf("the POST answer returned the password")
	}
	g, err := r.get("/Users", id, q("attributes", "password,userName"))
	if err != nil {
		return err
	}
	if has(g.body, "password") {
		return failf("GET with attributes=password returned it")
	}
	return nil
}

// ----- PATCH -------------------------------------------------------------

func checkPatchReplace(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	if err := r.patch("/Users", id, map[string]any{"op": "replace", "path": "name.givenName", "value": "Patched"}); err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	if at(g.body, "name.givenName") != "Patched" || at(g.body, "name.familyName") != "Family" {
		return failf("after replace name.givenName: name is %v", jsonString(at(g.body, "name")))
	}
	return nil
}

func checkPatchAdd(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	if err := r.patch("/Users", id,
		map[string]any{"op": "add", "path": "nickName", "value": "Babs"},
		map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "home@example.com", "type": "home"}}},
	); err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	if at(g.body, "nickName") != "Babs" || len(arr(at(g.body, "emails"))) != 2 {
		return failf("after add: nickName %v, emails %v", at(g.body, "nickName"), jsonString(at(g.body, "emails")))
	}
	return nil
}

func checkPatchRemove(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	_, id, err := r.newUser(map[string]any{"title": "Temp"})
	if err != nil {
		return err
	}
	if err := r.patch("/Users", id, map[string]any{"op": "remove", "path": "title"}); err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	if has(g.body, "title") && at(g.body, "title") != nil {
		return failf("after remove title: title is %v", at(g.body, "title"))
	}
	return nil
}

func checkPatchValueFilter(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	_, id, err := r.newUser(map[string]any{"emails": []any{
		map[string]any{"value": "w@example.com", "type": "work", "primary": true},
		map[string]any{"value": "h@example.com", "type": "home"},
	}})
	if err != nil {
		return err
	}
	if err := r.patch("/Users", id, map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "new@example.com"}); err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	got := map[string]string{}
	for _, e := range arr(at(g.body, "emails")) {
		got[fmt.Sprint(at(e, "type"))] = fmt.Sprint(at(e, "value"))
	}
	if got["work"] != "new@example.com" || got["home"] != "h@example.com" || len(got) != 2 {
		return failf("after replace of the work email: %v", jsonString(at(g.body, "emails")))
	}
	return nil
}

// memberPatchCase creates a group of three users, applies ops built from
// their ids, and requires the members left.
func (r *run) memberPatchCase(ops func(u []string) []map[string]any, left func(u []string) []string) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	var u []string
	for range 3 {
		_, id, err := r.newUser(nil)
		if err != nil {
			return err
		}
		u = append(u, id)
	}
	_, gid, err := r.newGroup(u[0], u[1])
	if err != nil {
		return err
	}
	if err := r.patch("/Groups", gid, ops(u)...); err != nil {
		return err
	}
	g, err := r.get("/Groups", gid, nil)
	if err != nil {
		return err
	}
	want := left(u)
	slices.Sort(want)
	if got := memberIDs(g.body); !slices.Equal(got, want) {
		return failf("members after PATCH %v, want %v", got, want)
	}
	return nil
}

func checkPatchMembers(r *run) error {
	return r.memberPatchCase(func(u []string) []map[string]any {
		return []map[string]any{
			{"op": "add", "path": "members", "value": []any{map[string]any{"value": u[2]}}},
			{"op": "remove", "path": fmt.Sprintf(`members[value eq %q]`, u[0])},
		}
	}, func(u []string) []string { return []string{u[1], u[2]} })
}

func checkConcurrentMembers(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	var users []string
	for range 5 {
		_, id, err := r.newUser(nil)
		if err != nil {
			return err
		}
		users = append(users, id)
	}
	_, gid, err := r.newGroup()
	if err != nil {
		return err
	}
	errs := make(chan error, len(users))
	for _, u := range users {
		go func() {
			errs <- r.patch("/Groups", gid, map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": u}}})
		}()
	}
	for range users {
		if err := <-errs; err != nil {
			return err
		}
	}
	g, err := r.get("/Groups", gid, nil)
	if err != nil {
		return err
	}
	slices.Sort(users)
	if got := memberIDs(g.body); !slices.Equal(got, users) {
		return failf("after 5 concurrent adds the group has %d members (%v): updates were lost", len(got), got)
	}
	return nil
}

func checkEntraRemoveValue(r *run) error {
	return r.memberPatchCase(func(u []string) []map[string]any {
		return []map[string]any{{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": u[0]}}}}
	}, func(u []string) []string { return []string{u[1]} })
}

func checkPatchInvalidPath(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	body := map[string]any{"schemas": []any{client.PatchOpURN}, "Operations": []any{map[string]any{"op": "replace", "path": "noSuchAttribute" + strconv.Itoa(r.seq), "value": "x"}}}
	x, err := r.do("PATCH", client.ResourcePath("/Users", id), nil, body)
	if err != nil {
		return err
	}
	if e1 := scimError(x, 400, "invalidPath"); e1 != nil {
		if e2 := scimError(x, 400, "noTarget"); e2 != nil {
			return e1
		}
	}
	return nil
}

func checkOktaNoPath(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	if err := r.patch("/Users", id, map[string]any{"op": "replace", "value": map[string]any{"active": false}}); err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	if at(g.body, "active") != false {
		return failf("after Okta's deactivation: active is %v", at(g.body, "active"))
	}
	return nil
}

func checkOktaGroupRename(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	_, gid, err := r.newGroup()
	if err != nil {
		return err
	}
	name := r.name("g-renamed")
	if err := r.patch("/Groups", gid, map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": name}}); err != nil {
		return err
	}
	g, err := r.get("/Groups", gid, nil)
	if err != nil {
		return err
	}
	if at(g.body, "displayName") != name || at(g.body, "id") != gid {
		return failf("after Okta's rename: %s", g)
	}
	return nil
}

func checkEntraCapital(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	if err := r.patch("/Users", id, map[string]any{"op": "Replace", "path": "active", "value": "False"}); err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	if at(g.body, "active") != false {
		return failf(`after "Replace" active "False": active is %v`, jsonString(at(g.body, "active")))
	}
	// The user stays findable while inactive (Entra's validator).
	return r.expectOnly("/Users", fmt.Sprintf("userName eq %q", g.body["userName"]), id)
}

func checkEntraDotted(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	if err := r.patch("/Users", id, map[string]any{"op": "replace", "value": map[string]any{
		"displayName":                     "Bjfe",
		"name.givenName":                  "Kkom",
		enterpriseURN + ":employeeNumber": "Aklq",
	}}); err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	if at(g.body, "displayName") != "Bjfe" || at(g.body, "name.givenName") != "Kkom" || ext(g.body, enterpriseURN, "employeeNumber") != "Aklq" {
		return failf("after the dotted no-path replace: %s", g)
	}
	if has(g.body, "name.givenName") {
		return failf(`"name.givenName" was stored as a top-level attribute`)
	}
	return nil
}

func checkEntraCreateOnAbsent(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	if err := r.patch("/Users", id, map[string]any{"op": "Add", "path": `phoneNumbers[type eq "mobile"].value`, "value": "+1 555 0100"}); err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	ph := arr(at(g.body, "phoneNumbers"))
	if len(ph) != 1 || at(ph[0], "type") != "mobile" || at(ph[0], "value") != "+1 555 0100" {
		return failf("after Add phoneNumbers[type eq \"mobile\"].value: %v", jsonString(ph))
	}
	return nil
}

func checkEntraManager(r *run) error {
	if err := r.needPatch(); err != nil {
		return err
	}
	d, err := r.discovery()
	if err != nil {
		return err
	}
	if d.Schema(enterpriseURN) == nil {
		return skipf("the server does not advertise the enterprise User extension")
	}
	_, mgr, err := r.newUser(nil)
	if err != nil {
		return err
	}
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	if err := r.patch("/Users", id, map[string]any{"op": "Add", "path": enterpriseURN + ":manager", "value": mgr}); err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	if v := ext(g.body, enterpriseURN, "manager.value"); v != mgr {
		return failf("manager is %v, want {\"value\":%q} (Entra cannot read a bare string back)", jsonString(ext(g.body, enterpriseURN, "manager")), mgr)
	}
	return nil
}

func checkNetwrixBoolean(r *run) error {
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	return r.expectOnly("/Users", fmt.Sprintf(`active eq "true" and userName eq %q`, x.body["userName"]), id)
}

// ----- ETags -------------------------------------------------------------

func (r *run) needETag() error {
	if !r.sp().ETag.Supported {
		return skipf("ServiceProviderConfig says etag.supported is false")
	}
	return nil
}

func checkETagHeader(r *run) error {
	if err := r.needETag(); err != nil {
		return err
	}
	x, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	if x.header.Get("ETag") == "" {
		return failf("POST answered without an ETag header")
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	et := g.header.Get("ETag")
	if et == "" {
		return failf("GET answered without an ETag header")
	}
	if v, _ := at(g.body, "meta.version").(string); v != et {
		return failf("ETag %q differs from meta.version %q", et, v)
	}
	if err := r.patchOrPut(id, "Changed"); err != nil {
		return err
	}
	g2, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	if g2.header.Get("ETag") == et {
		return failf("the ETag stayed %s after a change", et)
	}
	return nil
}

func (r *run) patchOrPut(id, display string) error {
	if r.sp().Patch.Supported {
		return r.patch("/Users", id, map[string]any{"op": "replace", "path": "displayName", "value": display})
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	g.body["displayName"] = display
	x, err := r.do("PUT", client.ResourcePath("/Users", id), nil, g.body)
	if err != nil {
		return err
	}
	return x.want(200)
}

func checkIfNoneMatch(r *run) error {
	if err := r.needETag(); err != nil {
		return err
	}
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	et := g.header.Get("ETag")
	if et == "" {
		return failf("GET answered without an ETag header")
	}
	x, err := r.do("GET", client.ResourcePath("/Users", id), nil, nil, "If-None-Match", et)
	if err != nil {
		return err
	}
	return x.want(304)
}

func checkIfMatch(r *run) error {
	if err := r.needETag(); err != nil {
		return err
	}
	_, id, err := r.newUser(nil)
	if err != nil {
		return err
	}
	g, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	old := g.header.Get("ETag")
	if old == "" {
		return failf("GET answered without an ETag header")
	}
	if err := r.patchOrPut(id, "First"); err != nil {
		return err
	}
	g.body["displayName"] = "Second"
	x, err := r.do("PUT", client.ResourcePath("/Users", id), nil, g.body, "If-Match", old)
	if err != nil {
		return err
	}
	if err := scimError(x, 412, ""); err != nil {
		return err
	}
	g2, err := r.get("/Users", id, nil)
	if err != nil {
		return err
	}
	if at(g2.body, "displayName") != "First" {
		return failf("the refused write changed displayName to %v", at(g2.body, "displayName"))
	}
	return nil
}

// ----- Bulk --------------------------------------------------------------

func (r *run) needBulk() error {
	if !r.sp().Bulk.Supported {
		return skipf("ServiceProviderConfig says bulk.supported is false")
	}
	return nil
}

type bulkOp = map[string]any

func (r *run) bulk(ops ...bulkOp) (*res, []map[string]any, error) {
	body := map[string]any{"schemas": []any{client.BulkRequestURN}, "Operations": ops}
	x, err := r.do("POST", "/Bulk", nil, body)
	if err != nil {
		return nil, nil, err
	}
	if x.status != 200 {
		return x, nil, failf("%s (want 200)", x)
	}
	if !slices.Contains(strs(x.body["schemas"]), client.BulkResponseURN) {
		return x, nil, failf("the answer's schemas lacks %s: %s", client.BulkResponseURN, x)
	}
	var out []map[string]any
	for _, o := range arr(x.body["Operations"]) {
		m, _ := o.(map[string]any)
		out = append(out, m)
		// Track what Bulk created so the cleanup removes it.
		if loc, _ := m["location"].(string); loc != "" && fmt.Sprint(m["method"]) == "POST" {
			if i := strings.LastIndex(loc, "/"); i > 0 {
				ep := "/Users"
				if strings.Contains(loc, "/Groups/") {
					ep = "/Groups"
				}
				id, _ := url.PathUnescape(loc[i+1:])
				r.track(ep, id)
			}
		}
	}
	return x, out, nil
}

func bulkStatus(op map[string]any) string {
	switch s := op["status"].(type) {
	case string:
		return s
	case float64:
		return strconv.Itoa(int(s))
	}
	return fmt.Sprint(op["status"])
}

func checkBulkCreate(r *run) error {
	if err := r.needBulk(); err != nil {
		return err
	}
	gname := r.name("g")
	_, ops, err := r.bulk(
		bulkOp{"method": "POST", "path": "/Users", "bulkId": "u1", "data": r.userDoc(nil)},
		bulkOp{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": map[string]any{"schemas": []any{groupURN}, "displayName": gname, "members": []any{map[string]any{"value": "bulkId:u1"}}}},
	)
	if err != nil {
		return err
	}
	if len(ops) != 2 {
		return failf("the BulkResponse holds %d operations, want 2", len(ops))
	}
	var uid, gid string
	for _, op := range ops {
		if bulkStatus(op) != "201" {
			return failf("bulk operation %s: status %v, want \"201\": %s", op["bulkId"], op["status"], jsonString(op))
		}
		loc, _ := op["location"].(string)
		if loc == "" {
			return failf("bulk operation %s has no location", op["bulkId"])
		}
		id := loc[strings.LastIndex(loc, "/")+1:]
		switch op["bulkId"] {
		case "u1":
			uid = id
		case "g1":
			gid = id
		}
	}
	if uid == "" || gid == "" {
		return failf("the BulkResponse does not echo the bulkIds u1 and g1")
	}
	g, err := r.get("/Groups", gid, nil)
	if err != nil {
		return err
	}
	if m := memberIDs(g.body); len(m) != 1 || m[0] != uid {
		return failf("the group's members are %v, want the user created as bulkId:u1 (%s)", m, uid)
	}
	return nil
}

func checkBulkErrors(r *run) error {
	if err := r.needBulk(); err != nil {
		return err
	}
	x, _, err := r.newUser(nil)
	if err != nil {
		return err
	}
	dup := r.userDoc(map[string]any{"userName": x.body["userName"]})
	_, ops, err := r.bulk(
		bulkOp{"method": "POST", "path": "/Users", "bulkId": "dup", "data": dup},
		bulkOp{"method": "POST", "path": "/Users", "bulkId": "ok", "data": r.userDoc(nil)},
	)
	if err != nil {
		return err
	}
	got := map[string]string{}
	for _, op := range ops {
		got[fmt.Sprint(op["bulkId"])] = bulkStatus(op)
		if op["bulkId"] == "dup" {
			if resp, ok := op["response"].(map[string]any); !ok || at(resp, "scimType") != "uniqueness" {
				return failf("the failed operation's response is not a SCIM error with scimType uniqueness: %s", jsonString(op))
			}
		}
	}
	if got["dup"] != "409" || got["ok"] != "201" {
		return failf("bulk statuses %v, want dup 409 and ok 201", got)
	}
	return nil
}

func checkBulkMax(r *run) error {
	if err := r.needBulk(); err != nil {
		return err
	}
	max := r.sp().Bulk.MaxOperations
	if max <= 0 || max > 1000 {
		return skipf("maxOperations is %d; sending more than that is not a quick check", max)
	}
	var ops []bulkOp
	for range max + 1 {
		// Deletes of ids that do not exist: nothing is created even by a
		// server that wrongly runs them.
		ops = append(ops, bulkOp{"method": "DELETE", "path": "/Users/" + r.name("missing")})
	}
	body := map[string]any{"schemas": []any{client.BulkRequestURN}, "Operations": ops}
	x, err := r.do("POST", "/Bulk", nil, body)
	if err != nil {
		return err
	}
	return scimError(x, 413, "")
}

// ----- errors ------------------------------------------------------------

func checkNotFound(r *run) error {
	x, err := r.do("GET", client.ResourcePath("/Users", r.name("missing")), nil, nil)
	if err != nil {
		return err
	}
	if err := scimError(x, 404, ""); err != nil {
		return err
	}
	if d, _ := x.body["detail"].(string); d == "" {
		return failf("the 404 body has no detail (Okta's test suite requires one)")
	}
	return nil
}

func checkUnauthorized(r *run) error {
	x, err := r.do("GET", "/Users", q("filter", `userName eq "x"`), nil, "NoAuth", "")
	if err != nil {
		return err
	}
	if x.status != 401 {
		return failf("%s (want 401)", x)
	}
	return scimError(x, 401, "")
}

func checkMalformed(r *run) error {
	x, err := r.do("POST", "/Users", nil, []byte(`{"schemas":["`+userURN+`"],"userName":`))
	if err != nil {
		return err
	}
	if x.status == 201 {
		id, _ := x.body["id"].(string)
		r.track("/Users", id)
	}
	return scimError(x, 400, "invalidSyntax")
}

func checkContentType(r *run) error {
	if _, err := r.do("GET", "/ServiceProviderConfig", nil, nil); err != nil {
		return err
	}
	r.mu.Lock()
	bad := slices.Clone(r.badTypes)
	r.mu.Unlock()
	if len(bad) > 0 {
		return failf("answers not typed application/scim+json: %s", strings.Join(bad, "; "))
	}
	return nil
}
