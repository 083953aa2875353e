package filter

import (
	"database/sql/driver"
	"sync"

	"modernc.org/sqlite"

	"github.com/pamscim/pamscim/internal/schema"
)

var registerOnce sync.Once

// RegisterSQLiteFunctions installs, once per process, the SQL functions the
// SQLite dialect uses, on every connection the "sqlite" driver opens
// afterwards; call it before sql.Open.
//
//   - scim_fold(text) text: strings.ToLower, the folding Eval uses, so that
//     SQL and Go agree on "É", "ß", "İ" where SQLite's lower() (ASCII only)
//     and ICU would not. NULL for anything but text.
//   - scim_time(text) integer: an xsd:dateTime as unix microseconds
//     (schema.ParseDateTime), NULL when it does not parse, so dateTimes in
//     documents compare as instants whatever their zone offsets.
//
// Both are deterministic, so SQLite may use them in indexes.
func RegisterSQLiteFunctions() {
	registerOnce.Do(func() {
		sqlite.MustRegisterDeterministicScalarFunction("scim_fold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			if s, ok := args[0].(string); ok {
				return fold(s), nil
			}
			return nil, nil
		})
		sqlite.MustRegisterDeterministicScalarFunction("scim_time", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			s, ok := args[0].(string)
			if !ok {
				return nil, nil
			}
			t, err := schema.ParseDateTime(s)
			if err != nil {
				return nil, nil
			}
			return t.UnixMicro(), nil
		})
	})
}
