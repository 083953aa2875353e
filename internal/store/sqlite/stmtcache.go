package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"sync"
)

// The statement cache. database/sql hands every Exec and Query without a
// prepared *sql.Stmt to the driver as text, and modernc's driver compiles
// the text each time: under load a third of a lookup's CPU and a sixth of a
// create's went to SQLite's parser (bench/RESULTS.md, issue 9 part 4). This
// wrapper keeps the compiled statements of each connection, keyed by their
// text, so every caller (the store, the filter compiler's SQL, migrations)
// gets them without preparing anything itself.
//
// A statement is in use while its Rows are open; a second query with the
// same text on the same connection meanwhile (a query inside a loop over
// its own results) gets a fresh statement, finalized when its Rows close,
// so that it cannot reset the first one's cursor.

// stmtCacheSize bounds the compiled statements kept per connection. The
// store's fixed statements number a few dozen; what varies is filters and
// IN lists (one text per list length), and the least recently used go.
const stmtCacheSize = 256

// connector opens connections of the registered "sqlite" driver (so they
// carry the SQL functions registered on it) and wraps them.
type connector struct {
	dsn string
	d   driver.Driver
}

var (
	baseOnce   sync.Once
	baseDriver driver.Driver
)

// sqliteDriver is the driver modernc registers as "sqlite": the one the
// SQL functions of internal/filter are registered on.
func sqliteDriver() driver.Driver {
	baseOnce.Do(func() {
		db, err := sql.Open("sqlite", "")
		if err != nil {
			panic(err) // the driver is linked in; Open does not connect
		}
		baseDriver = db.Driver()
		db.Close()
	})
	return baseDriver
}

// openCached opens a pool whose connections cache their statements.
func openCached(dsn string) *sql.DB {
	return sql.OpenDB(&connector{dsn: dsn, d: sqliteDriver()})
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.d.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachedConn(conn)
}

func (c *connector) Driver() driver.Driver { return c.d }

// The interfaces the wrapped connection must have; modernc's has them all.
type baseConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

type cachedConn struct {
	base  baseConn
	lru   *list.List // of *cachedStmt, most recent first
	byKey map[string]*list.Element
}

type cachedStmt struct {
	query string
	st    driver.Stmt
	busy  bool // its Rows are open
	gone  bool // evicted while busy: close when the Rows close
}

var (
	_ driver.Conn               = (*cachedConn)(nil)
	_ driver.ConnBeginTx        = (*cachedConn)(nil)
	_ driver.ConnPrepareContext = (*cachedConn)(nil)
	_ driver.ExecerContext      = (*cachedConn)(nil)
	_ driver.QueryerContext     = (*cachedConn)(nil)
	_ driver.SessionResetter    = (*cachedConn)(nil)
	_ driver.Validator          = (*cachedConn)(nil)
	_ driver.Pinger             = (*cachedConn)(nil)
)

func newCachedConn(c driver.Conn) (driver.Conn, error) {
	b, ok := c.(baseConn)
	if !ok {
		c.Close()
		return nil, errors.New("sqlite: the driver's connection lacks a context method the statement cache needs")
	}
	return &cachedConn{base: b, lru: list.New(), byKey: map[string]*list.Element{}}, nil
}

func (c *cachedConn) Prepare(query string) (driver.Stmt, error) { return c.base.Prepare(query) }
func (c *cachedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.base.PrepareContext(ctx, query)
}
func (c *cachedConn) Begin() (driver.Tx, error) {
	return c.base.BeginTx(context.Background(), driver.TxOptions{})
}
func (c *cachedConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	return c.base.BeginTx(ctx, o)
}
func (c *cachedConn) ResetSession(ctx context.Context) error { return c.base.ResetSession(ctx) }
func (c *cachedConn) IsValid() bool                          { return c.base.IsValid() }
func (c *cachedConn) Ping(ctx context.Context) error         { return c.base.Ping(ctx) }

// Close finalizes the cached statements, then closes the connection.
func (c *cachedConn) Close() error {
	for e := c.lru.Front(); e != nil; e = e.Next() {
		_ = e.Value.(*cachedStmt).st.Close()
	}
	c.lru.Init()
	c.byKey = nil
	return c.base.Close()
}

// stmt returns the cached statement of query, compiling it on first use;
// nil and no error when it is in use (the caller prepares its own).
func (c *cachedConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if e, ok := c.byKey[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return cs, nil
	}
	st, err := c.base.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, st: st}
	c.byKey[query] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtCacheSize {
		e := c.lru.Back()
		old := e.Value.(*cachedStmt)
		c.lru.Remove(e)
		delete(c.byKey, old.query)
		if old.busy {
			old.gone = true
		} else {
			_ = old.st.Close()
		}
	}
	return cs, nil
}

func (c *cachedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.base.ExecContext(ctx, query, args)
	}
	return cs.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.base.QueryContext(ctx, query, args)
	}
	r, err := cs.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: r, cs: cs}, nil
}

// cachedRows marks its statement free again when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if cs := r.cs; cs != nil {
		r.cs = nil
		cs.busy = false
		if cs.gone {
			if e := cs.st.Close(); err == nil {
				err = e
			}
		}
	}
	return err
}

// The column type methods are passed on for rows.ColumnTypes.

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
