package filter

import (
	"strconv"
	"strings"
)

// Dialect is what differs between SQL engines in the SQL that Compile and
// OrderBy write. Every method receives SQL expressions that Compile built
// (column names, placeholders, JSON paths made of schema-validated
// attribute names) and returns SQL; no client text ever passes through a
// Dialect.
//
// The table layout is fixed: resources r (tenant, rtype, id, ext_id, ukey,
// dname, active, doc, version, created, modified), members
// (tenant, group_id, member_id, member_type) and attr_values
// (tenant, rtype, attr, val, res_id).
type Dialect interface {
	// Placeholder returns the marker of the n-th bind argument (1-based).
	// It must bind by number: the same marker appears twice in some
	// conditions, and argument order differs from appearance order.
	Placeholder(n int) string
	// JSON returns the SQL value at keys inside the JSON text doc: NULL
	// when absent or null, text for a string, a number for a number, what
	// Bool returns for true and false, JSON text for an object or array.
	JSON(doc string, keys ...string) string
	// NonEmptyObject returns a condition that holds when the value at keys
	// inside doc is a JSON object with at least one member.
	NonEmptyObject(doc string, keys ...string) string
	// Elements describes the rows of the JSON array at keys inside doc,
	// one per element, under the table alias alias.
	Elements(doc, alias string, keys ...string) Elements
	// Fold applies the same case folding as Go's strings.ToLower, NULL for
	// non-text values.
	Fold(x string) string
	// Time converts an xsd:dateTime text to unix microseconds, NULL when
	// it does not parse (schema.ParseDateTime).
	Time(x string) string
	// Like returns "x matches the LIKE pattern p", with backslash as the
	// escape character. Compile only uses it on folded text.
	Like(x, p string) string
	// Contains, HasPrefix and HasSuffix are case-sensitive substring tests
	// of text x against text v.
	Contains(x, v string) string
	HasPrefix(x, v string) string
	HasSuffix(x, v string) string
	// Bool returns the bind argument that compares equal to a stored
	// boolean (the active column, a JSON true or false).
	Bool(b bool) any
	// False is the false literal, used to make NULL conditions false.
	False() string
	// Indexed reports whether the store copies the folded values of the
	// multi-valued sub-attribute path (e.g. "emails.value") of resources
	// of type rtype into attr_values.
	Indexed(rtype, path string) bool
}

// Elements is the SQL for iterating over a JSON array.
type Elements struct {
	// From is the FROM item yielding one row per element.
	From string
	// IsObject holds for rows whose element is a non-empty object.
	IsObject string
	// Obj is the element as JSON text, to pass to Dialect.JSON.
	Obj string
	// Atom is the SQL value of a scalar element (NULL for objects).
	Atom string
	// Index is the element's position, for "the first element".
	Index string
}

// DefaultIndexed lists, per resource type name, the multi-valued
// sub-attributes whose folded values the store keeps in attr_values. The
// store and the dialect must agree on it.
var DefaultIndexed = map[string][]string{
	"User": {"emails.value"},
	// PAM references: listing a container's permissions, or a user's, is
	// an index probe instead of a scan of every permission.
	"Container":                {"parent.value", "owner.value"},
	"ContainerPermission":      {"container.value", "user.value", "group.value"},
	"PrivilegedDataPermission": {"privilegedData.value", "user.value", "group.value"},
}

// SQLiteDialect is the Dialect of SQLite with the functions that
// RegisterSQLiteFunctions installs.
type SQLiteDialect struct {
	// IndexedValues overrides DefaultIndexed when not nil.
	IndexedValues map[string][]string
}

// SQLite is the SQLite dialect for the default attr_values layout.
var SQLite Dialect = SQLiteDialect{}

// Placeholder returns ?N, which modernc, mattn and ncruces all bind by
// number; a bare ? binds by appearance in some drivers (STACK.md §2.2).
func (SQLiteDialect) Placeholder(n int) string { return "?" + strconv.Itoa(n) }

// jsonPath builds a SQLite JSON path literal, every key quoted: URN keys
// contain ':' and '.', and $ref starts with '$'.
func jsonPath(keys []string) string {
	var b strings.Builder
	b.WriteString(`'$`)
	for _, k := range keys {
		b.WriteString(`."`)
		b.WriteString(k)
		b.WriteByte('"')
	}
	b.WriteByte('\'')
	return b.String()
}

func (SQLiteDialect) JSON(doc string, keys ...string) string {
	return "json_extract(" + doc + ", " + jsonPath(keys) + ")"
}

func (SQLiteDialect) NonEmptyObject(doc string, keys ...string) string {
	p := jsonPath(keys)
	return "(json_type(" + doc + ", " + p + ") = 'object' AND json_extract(" + doc + ", " + p + ") <> '{}')"
}

func (SQLiteDialect) Elements(doc, alias string, keys ...string) Elements {
	return Elements{
		From:     "json_each(" + doc + ", " + jsonPath(keys) + ") AS " + alias,
		IsObject: "(" + alias + ".type = 'object' AND " + alias + ".value <> '{}')",
		Obj:      alias + ".value",
		Atom:     alias + ".atom",
		Index:    alias + ".key",
	}
}

func (SQLiteDialect) Fold(x string) string { return "scim_fold(" + x + ")" }
func (SQLiteDialect) Time(x string) string { return "scim_time(" + x + ")" }
func (SQLiteDialect) Like(x, p string) string {
	return x + " LIKE " + p + ` ESCAPE '\'`
}

// instr and substr count characters, so on valid UTF-8 they agree with
// Go's byte-wise strings.Contains/HasPrefix/HasSuffix; LIKE would not do
// here, being ASCII-case-insensitive.
func (SQLiteDialect) Contains(x, v string) string { return "instr(" + x + ", " + v + ") > 0" }
func (SQLiteDialect) HasPrefix(x, v string) string {
	return "substr(" + x + ", 1, length(" + v + ")) = " + v
}
func (SQLiteDialect) HasSuffix(x, v string) string {
	return "substr(" + x + ", -length(" + v + ")) = " + v
}

// Bool: SQLite has no boolean type; json_extract returns 1 and 0 for true
// and false, and the store writes active as 1 and 0.
func (SQLiteDialect) Bool(b bool) any {
	if b {
		return int64(1)
	}
	return int64(0)
}

func (SQLiteDialect) False() string { return "0" }

func (d SQLiteDialect) Indexed(rtype, path string) bool {
	m := d.IndexedValues
	if m == nil {
		m = DefaultIndexed
	}
	for _, p := range m[rtype] {
		if p == path {
			return true
		}
	}
	return false
}

// likePattern escapes the LIKE metacharacters of a literal value so that it
// always matches itself only.
func likePattern(prefix, s, suffix string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	b.WriteString(prefix)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString(suffix)
	return b.String()
}
