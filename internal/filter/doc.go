// Package filter parses, binds, evaluates and compiles SCIM filters
// (RFC 7644 §3.4.2.2) and the attribute paths that PATCH uses (§3.5.2).
//
// # Why our own parser
//
// The obvious dependency, github.com/scim2/filter-parser/v2 (STACK.md §2.1),
// recognises string literals but never decodes them, so `"x\"y"` reaches the
// application as `x\"y` and every String/parse round trip adds backslashes;
// it rejects the lower-case \u escapes that encoding/json itself produces;
// it accepts invalid UTF-8; it spends about 80 µs and 1,688 allocations on
// `userName eq "bjensen"`; and its errors ("parse conflict [00:001]: expected
// op.Or …") cannot be shown to a client. The grammar is fifteen ABNF lines
// and we need an AST we compile to SQL anyway, so a hand-written lexer and
// recursive-descent parser is the cheaper dependency. Errors are
// scimerr.InvalidFilter (scimerr.InvalidPath for PATCH paths) and name the
// problem and the 1-based byte position.
//
// # Pipeline
//
//	Parse      text → Expr (raw spelling, no schema knowledge)
//	Bind       Expr × ResourceType → bound Expr (paths resolved, values
//	           type-checked and coerced, operators checked per type)
//	Eval       bound Expr × Resource → bool; the reference semantics
//	Compile    bound Expr × Dialect → SQL WHERE fragment + bind arguments
//
// Eval is the specification and Compile must agree with it on every input;
// a property test runs thousands of random filters over random documents
// through both and compares the result sets.
//
// # Semantics decided here
//
//   - Precedence is grouping, then not, then and, then or; and/or associate
//     to the left. Operators, keywords and attribute names are
//     case-insensitive.
//   - Inside brackets the parser accepts a whole filter (and/or chains,
//     parentheses, not), a superset of the RFC's valFilter; value paths do
//     not nest.
//   - `attr[filter].sub op value`, which Entra ID sends, is folded at parse
//     time into `attr[(filter) and sub op value]`: both conditions must hold
//     on the same element, which is what the client means. There is no
//     separate AST node for it.
//   - A multi-valued attribute matches when any value matches, and all
//     conditions of a value path must hold on one element.
//   - `ne` is the negation of `eq`, so it is true when the attribute is
//     absent and, on a multi-valued attribute, when no value is equal.
//     `eq null` means "not present", `ne null` means "present"; `pr` means
//     present and not empty.
//   - Strings of caseExact=false attributes compare after strings.ToLower on
//     both sides; the SQL side uses scim_fold, the same Go function.
//     dateTime values compare as instants with microsecond precision,
//     numbers numerically, other strings byte-wise (lexicographically).
//   - A bare complex attribute in a comparison (`emails co "x"`,
//     `members eq "id"`) means its value sub-attribute, as the RFC's own
//     examples assume. `attr pr` on a complex attribute tests the attribute.
//   - On a single-type endpoint an attribute the type does not define is a
//     400 invalidFilter (the interop profile's rule), not "no value".
//   - Lenient forms real clients send (single quotes, unquoted values,
//     quoted booleans and numbers) are accepted; see lenient.go and Bind.
//
// # Using it from a store
//
// Call RegisterSQLiteFunctions before opening SQLite connections. Build the
// list query as "... FROM resources r WHERE r.tenant = ?1 AND r.rtype = ?2
// AND (" + fragment + ")" with the fragment and arguments of
// Compile(e, SQLite, 3): member and attr_values lookups reuse placeholders
// 1 and 2. OrderBy gives the sort key for "ORDER BY (key) IS NULL, key,
// r.id". The hot columns (ukey, dname, ext_id, active, created, modified)
// and attr_values (for DefaultIndexed) must be kept exactly as the store's
// documentation of the table layout says, folded with strings.ToLower.
//
// On PostgreSQL use Postgres instead of SQLite, with $1 and $2 for the
// tenant and type, after the store's migrations created the functions in
// PostgresFunctions (scim_fold: Go's folding as a translate() table, not
// lower(); scim_time). Its text keys are COLLATE "C" and doc is jsonb.
package filter
