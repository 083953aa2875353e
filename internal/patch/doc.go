// Package patch implements SCIM PATCH (RFC 7644 §3.5.2): Decode reads a
// request body into operations, Apply runs them against one resource.
//
//	ops, err := patch.Decode(body)
//	…
//	store.Update(ctx, rt, tenant, id, now, func(ctx context.Context, cur *store.Resource, tx store.Tx) (bool, error) {
//		changed, touched, err := patch.Apply(ctx, rt, cur, ops, tx)
//		…
//	})
//
// Apply works on a copy of the document and installs it only when every
// operation succeeded; membership changes (Group.members) go through
// store.Tx inside the store's transaction, which the caller rolls back on
// error. A one-member add or remove is one Tx call and never reads the
// member list. changed is false when nothing ended up different, so the
// store keeps meta.version and lastModified (RFC 7644 §3.5.2.1: "SHALL NOT
// bump"). Value-path filters are parsed, bound and evaluated by package
// filter (ParsePath, Bind, MatchElement), the same code that serves
// ?filter=.
//
// # Client dialects
//
// Real clients do not all send RFC 7644. Each form below is accepted and
// turned into the RFC meaning. Forms of the envelope and of a single
// operation are normalised by Decode; forms that need the schema to be
// recognised are resolved by Apply. Tests name the client for each
// (clients_test.go; references are to clients/NOTES.md).
//
// Decode:
//
//   - A bare JSON array of operations, no PatchOp envelope — SailPoint
//     IdentityNow (seed 001).
//   - "Operations" in any letter case ("operations"), operation keys in any
//     case ("Op", "Path", "Value"); a missing "schemas" — SailPoint, and
//     generally lenient clients. A "schemas" that is present but lacks the
//     PatchOp URN is refused (it is another message type).
//   - Op names in any case: "Add", "Replace", "Remove" — Entra ID without
//     aadOptscim062020 (§1.6); "ADD" from others (X4).
//   - The attribute as a key of the operation instead of path/value:
//     {"op":"add","members":[…]} — SailPoint IdentityNow (seed 001). add and
//     replace become one path-less operation over those keys; remove becomes
//     one remove per key whose value lists the values to remove.
//   - Roles serialised as JSON text inside "value":
//     {"value":"{\"id\":…,\"value\":\"25\",\"displayName\":\"R\"}"} —
//     Entra ID without aadOptscim062020 (§1.6, E17); becomes
//     {"value":"25","display":"R"}.
//   - "path": null or "" on add/replace means no path.
//
// Apply:
//
//   - Path-less add/replace whose value object has dotted keys
//     ("name.givenName", "emails.value") or URN-qualified keys
//     ("urn:…:enterprise:2.0:User:employeeNumber") — Entra ID with
//     aadOptscim062020 (§1.6, E16), SailPoint (S9). Each key is resolved as
//     an attribute path; extension objects under their URN key (RFC form)
//     work too.
//   - Path-less replace {"active":false} — Okta (O14, O15); plain RFC.
//   - Read-only keys inside a path-less value ("id", "meta", "schemas",
//     "groups") are ignored, not refused — Okta sends the group's id with
//     every rename (O21). An explicit path to a read-only attribute is
//     still a mutability error.
//   - Booleans as the strings "True"/"False" — Entra ID without the flag
//     (E14, E15); done by schema.NormalizeValue.
//   - A bare string for a complex attribute means its value sub-attribute:
//     manager "id" — Entra ID (E11, §6 #6); done by schema.NormalizeValue.
//   - A one-element array for a single-valued attribute, and the short path
//     "manager" for the enterprise manager: {"op":"Add","path":"manager",
//     "value":[{"$ref":…,"value":"id"}]} — Entra ID tutorial. An unqualified
//     name the core schema lacks resolves to the one extension defining it.
//   - A member named with "displayName" instead of "display":
//     {"op":"add","path":"members","value":[{"displayName":"new User",
//     "value":"id"}]} — Microsoft's Entra SCIM validator, which expects the
//     name back as members.display; kept as the member's label (read as
//     display by schema.NormalizeSingle, for POST and PUT as well).
//   - remove with a path and a value list removes only those values:
//     {"op":"Remove","path":"members","value":[{"value":"id"}]} — Entra ID
//     without the flag (E26), JumpCloud; {"op":"remove","path":"rights",
//     "value":["View"]} — SailPoint IdentityIQ PAM (S18). A strict server
//     would empty the group (azure-docs #30826).
//   - add/replace through a value path that matches nothing creates the
//     value from the filter's eq comparisons:
//     emails[type eq "work"].value → {"type":"work","value":…} — Entra ID
//     and its validators (E9, §6 #5).
//   - A value filter on a single-valued complex attribute:
//     {"op":"remove","path":"manager[value eq \"id\"]"} — Entra ID (E12,
//     §6 #7).
//   - replace with "" or null clears the attribute — Entra's
//     SCIM_Null_Update_Test (E18), and removes the manager (E12).
//   - "emails.value" without a filter addresses the primary value (else the
//     first, else a new one) — SailPoint maps emails[0].value to it (S9).
//   - A dot between a schema URN and the attribute,
//     "urn:…:cyberark:1.0:PrivilegedData.properties" — Netwrix Identity
//     Manager in CyberArk syntax mode (§4).
//   - members[].display and "$ref": null in member values are ignored —
//     Okta (O22, O23), Entra ID (E24, E26).
//   - members[value eq "a" or value eq "b"] removes without reading the
//     member list — Okta (O22), Entra ID with the flag (E27), SailPoint
//     IdentityIQ (S10).
//   - Lenient literals inside path filters (roles[primary eq "True"],
//     unquoted ids) are package filter's Bind rules.
//
// # Decisions where the RFC is silent or ambiguous
//
//   - Removing a required attribute, or replacing it with null or "", is
//     400 mutability (RFC 7644 §3.5.2.2: "required attribute cannot be
//     removed"); a required sub-attribute left missing is invalidValue
//     (schema.CheckRequired).
//   - A remove whose filter matches nothing succeeds without change; a
//     replace or add whose filter matches nothing creates the value when
//     the filter is a conjunction of eq comparisons, and is noTarget
//     otherwise. Writing null or "" through a filter that matches nothing
//     succeeds without change (a clear is idempotent).
//   - replace on a complex attribute merges sub-attributes (RFC 7644), not
//     the Interop Profile's full replacement. replace through a value path
//     without a sub-attribute replaces each matching value entirely (RFC
//     7644 §3.5.2.3's address example); add through such a path merges.
//   - Setting primary:true demotes the other values to primary:false;
//     making two values primary in one operation is invalidValue.
//   - When a complex value's "value" changes and no "$ref" is given, the old
//     "$ref" is dropped, since it referred to the old value.
//   - "schemas" is derived from the extensions that have values when the
//     resource is written, so writing it has no effect; adding an
//     extension attribute adds its URN implicitly.
//   - Unknown attribute names inside a path-less value are ignored, as on
//     POST and PUT; an unknown explicit path is invalidPath. A malformed or
//     unbindable filter inside a path is invalidFilter.
//   - Immutable: adding a value to an immutable attribute that has none is
//     allowed; any change to a set value is mutability. Immutable
//     sub-attributes are checked on single-valued complex attributes;
//     values of multi-valued attributes have no identity to track.
//   - Filters on members may only select members to remove; the
//     sub-attributes of a member cannot be changed. User.groups is
//     read-only: PATCH must go through the Group.
//   - An empty Operations array is invalidSyntax (RFC 7644 §3.5.2 requires
//     at least one operation), although the older Entra validator has sent
//     one (scimmy #59).
package patch
