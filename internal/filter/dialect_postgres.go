package filter

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/pamscim/pamscim/internal/schema"
)

// PostgresDialect is the Dialect of PostgreSQL (15 and later) over the
// store's PostgreSQL tables: doc is jsonb; the text columns (id, ext_id,
// ukey, dname, attr_values.val, member ids) are COLLATE "C", so that
// comparisons and ORDER BY are byte-wise as in Go and SQLite; active is a
// boolean. It uses the SQL functions in PostgresFunctions.
//
// PostgreSQL's jsonb operators return jsonb or text, never the JSON value's
// own type, so the dialect also implements TypedDialect: the compiler asks
// for the value of an attribute as the type the schema declares.
type PostgresDialect struct {
	// IndexedValues overrides DefaultIndexed when not nil.
	IndexedValues map[string][]string
}

// Postgres is the PostgreSQL dialect for the default attr_values layout.
var Postgres Dialect = PostgresDialect{}

// TypedDialect is a Dialect whose JSON values need the attribute's declared
// type to be read (PostgreSQL). The compiler calls it instead of
// Dialect.JSON and Elements.Atom when a dialect implements it.
type TypedDialect interface {
	Dialect
	// JSONAs returns the value at keys inside doc as typ (a schema type):
	// text for strings, references, binaries and dateTimes, a boolean for
	// booleans, a number for integers and decimals; NULL when absent, null
	// or of another JSON type.
	JSONAs(typ, doc string, keys ...string) string
	// AtomAs is Elements.Atom as typ.
	AtomAs(typ string, el Elements) string
}

func (PostgresDialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// jsonb returns the jsonb value at keys inside doc. Keys passed safeKey,
// so they never contain a quote.
func pgPath(doc string, keys []string) string {
	var b strings.Builder
	b.WriteString("(")
	b.WriteString(doc)
	for _, k := range keys {
		b.WriteString(" -> '")
		b.WriteString(k)
		b.WriteString("'")
	}
	b.WriteString(")")
	return b.String()
}

// JSON is the untyped value: text for a string and JSON text for anything
// else; the compiler uses JSONAs on this dialect.
func (d PostgresDialect) JSON(doc string, keys ...string) string {
	return d.JSONAs(schema.TypeString, doc, keys...)
}

func (PostgresDialect) JSONAs(typ, doc string, keys ...string) string {
	return pgTyped(typ, pgPath(doc, keys))
}

func (PostgresDialect) AtomAs(typ string, el Elements) string {
	return pgTyped(typ, el.Obj)
}

// pgTyped reads the jsonb value x as typ, NULL when x holds another JSON
// type (SQLite's json_extract never makes a number equal a string either).
func pgTyped(typ, x string) string {
	switch typ {
	case schema.TypeBoolean:
		return "(CASE jsonb_typeof(" + x + ") WHEN 'boolean' THEN " + x + " = 'true'::jsonb END)"
	case schema.TypeInteger, schema.TypeDecimal:
		return "(CASE jsonb_typeof(" + x + ") WHEN 'number' THEN (" + x + ")::numeric END)"
	case schema.TypeComplex:
		return "(CASE WHEN jsonb_typeof(" + x + ") NOT IN ('object', 'array', 'null') THEN " + x + " #>> '{}' END)"
	}
	return "((CASE jsonb_typeof(" + x + ") WHEN 'string' THEN " + x + " #>> '{}' END) COLLATE \"C\")"
}

func (PostgresDialect) NonEmptyObject(doc string, keys ...string) string {
	x := pgPath(doc, keys)
	return "(jsonb_typeof(" + x + ") = 'object' AND " + x + " <> '{}'::jsonb)"
}

func (PostgresDialect) Elements(doc, alias string, keys ...string) Elements {
	x := pgPath(doc, keys)
	return Elements{
		// jsonb_array_elements fails on anything but an array; NULL yields
		// no rows, as json_each of a missing path does.
		From:     "jsonb_array_elements(CASE jsonb_typeof(" + x + ") WHEN 'array' THEN " + x + " END) WITH ORDINALITY AS " + alias + "(value, idx)",
		IsObject: "(jsonb_typeof(" + alias + ".value) = 'object' AND " + alias + ".value <> '{}'::jsonb)",
		Obj:      alias + ".value",
		Atom:     pgTyped(schema.TypeComplex, alias+".value"),
		Index:    alias + ".idx",
	}
}

func (PostgresDialect) Fold(x string) string { return "scim_fold(" + x + ")" }
func (PostgresDialect) Time(x string) string { return "scim_time(" + x + ")" }
func (PostgresDialect) Like(x, p string) string {
	return x + " LIKE " + p + ` ESCAPE '\'`
}

// The casts settle the type of a parameter that appears only inside a
// function call, which PostgreSQL could not infer otherwise.
func (PostgresDialect) Contains(x, v string) string {
	return "strpos(" + x + ", CAST(" + v + " AS text)) > 0"
}
func (PostgresDialect) HasPrefix(x, v string) string {
	return "starts_with(" + x + ", CAST(" + v + " AS text))"
}
func (PostgresDialect) HasSuffix(x, v string) string {
	return "right(" + x + ", length(CAST(" + v + " AS text))) = " + v
}

func (PostgresDialect) Bool(b bool) any { return b }
func (PostgresDialect) False() string   { return "FALSE" }

func (d PostgresDialect) Indexed(rtype, path string) bool {
	return SQLiteDialect{IndexedValues: d.IndexedValues}.Indexed(rtype, path)
}

// jsonAs and atomAs read a JSON value as the schema type typ in dialects
// that need it (TypedDialect), else as the dialect's JSON value.
func jsonAs(d Dialect, typ, doc string, keys ...string) string {
	if td, ok := d.(TypedDialect); ok {
		return td.JSONAs(typ, doc, keys...)
	}
	return d.JSON(doc, keys...)
}

func atomAs(d Dialect, typ string, el Elements) string {
	if td, ok := d.(TypedDialect); ok {
		return td.AtomAs(typ, el)
	}
	return el.Atom
}

// PostgresFunctions is the SQL that creates the functions the PostgreSQL
// dialect calls, in the first schema of the search_path. The store's
// migrations contain it verbatim (a test checks), so a change here needs a
// new migration.
//
//   - scim_fold(text): Go's strings.ToLower, rune by rune, as a translate()
//     table generated from Go's Unicode tables. PostgreSQL's lower()
//     depends on the database's locale (C folds ASCII only; ICU maps "İ"
//     to two runes), so it would disagree with Eval and with the folded
//     keys (ukey, dname, attr_values.val) that the store computes in Go.
//     ASCII text, the common case, takes the short table.
//   - scim_time(text): schema.ParseDateTime as unix microseconds, NULL
//     when it does not parse, in plain arithmetic so that it does not
//     depend on the session's time zone or PostgreSQL's looser parser.
func PostgresFunctions() string {
	var from, to strings.Builder
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if l := unicode.ToLower(r); l != r {
			from.WriteRune(r)
			to.WriteRune(l)
		}
	}
	return `-- Generated by filter.PostgresFunctions (Unicode ` + unicode.Version + `).
CREATE OR REPLACE FUNCTION scim_fold(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fold$
SELECT CASE WHEN octet_length(s) = char_length(s)
  THEN translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
  ELSE translate(translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
    '` + from.String() + `',
    '` + to.String() + `')
END
$fold$;
CREATE OR REPLACE FUNCTION scim_time(s text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $time$
DECLARE
  m text[];
  y bigint; mo int; d int; dim int; h int; mi int; sec int;
  us bigint := 0; off bigint := 0;
  yy bigint; era bigint; yoe bigint; doy bigint; days bigint;
BEGIN
  -- time.Parse with RFC3339Nano, else with "2006-01-02T15:04:05.999999999":
  -- the hour may have one digit, the fraction any number after '.' or ','.
  m := regexp_match(s, '^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]+))?(Z|([+-])([0-9]{2}):([0-9]{2}))?$');
  IF m IS NULL THEN
    RETURN NULL;
  END IF;
  y := m[1]::bigint; mo := m[2]::int; d := m[3]::int;
  h := m[4]::int; mi := m[5]::int; sec := m[6]::int;
  IF mo < 1 OR mo > 12 OR d < 1 OR h > 23 OR mi > 59 OR sec > 59 THEN
    RETURN NULL;
  END IF;
  dim := 31;
  IF mo = 2 THEN
    dim := 28;
    IF (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN
      dim := 29;
    END IF;
  ELSIF mo IN (4, 6, 9, 11) THEN
    dim := 30;
  END IF;
  IF d > dim THEN
    RETURN NULL;
  END IF;
  IF m[7] IS NOT NULL THEN
    us := rpad(left(m[7], 6), 6, '0')::bigint;
  END IF;
  IF m[9] IS NOT NULL THEN
    -- Go accepts offsets up to 24 hours and 60 minutes.
    IF m[10]::int > 24 OR m[11]::int > 60 THEN
      RETURN NULL;
    END IF;
    off := (m[10]::int * 60 + m[11]::int) * 60;
    IF m[9] = '-' THEN
      off := -off;
    END IF;
  END IF;
  -- Days since 1970-01-01 in the proleptic Gregorian calendar.
  yy := y;
  IF mo <= 2 THEN
    yy := y - 1;
  END IF;
  era := yy / 400;
  IF yy < 0 THEN
    era := (yy - 399) / 400;
  END IF;
  yoe := yy - era * 400;
  IF mo > 2 THEN
    doy := (153 * (mo - 3) + 2) / 5 + d - 1;
  ELSE
    doy := (153 * (mo + 9) + 2) / 5 + d - 1;
  END IF;
  days := era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
  RETURN (days * 86400 + h * 3600 + mi * 60 + sec - off) * 1000000 + us;
END
$time$;
`
}
