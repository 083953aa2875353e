package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

func (db *DB) needTenant(ctx context.Context, tenant string) error {
	ok, err := db.TenantExists(ctx, tenant)
	if err != nil {
		return err
	}
	if !ok {
		return scimerr.New(scimerr.NotFound, "tenant %q does not exist", tenant)
	}
	return nil
}

// CreateClient stores a new OAuth client.
func (db *DB) CreateClient(ctx context.Context, c *store.OAuthClient) error {
	if err := db.needTenant(ctx, c.Tenant); err != nil {
		return err
	}
	_, err := db.wdb.ExecContext(ctx, db.q(`INSERT INTO oauth_clients (id, tenant, name, secret_hash, public_key, scopes, grants, access_ttl, refresh_ttl, created, secret_changed, created_by, refresh_token_alone)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`),
		c.ID, c.Tenant, c.Name, c.SecretHash, c.PublicKey, strings.Join(c.Scopes, " "), strings.Join(c.Grants, " "),
		int64(c.AccessTTL/time.Second), int64(c.RefreshTTL/time.Second), micros(c.Created), micros(c.SecretChanged), c.CreatedBy, c.RefreshTokenAlone)
	if err != nil {
		if db.f.IsUnique(err) {
			return scimerr.New(scimerr.Uniqueness, "a client named %q already exists in tenant %q", c.Name, c.Tenant)
		}
		return fmt.Errorf("create client: %w", err)
	}
	return nil
}

const clientCols = `id, tenant, name, secret_hash, public_key, scopes, grants, access_ttl, refresh_ttl, created, secret_changed, last_used, created_by, refresh_token_alone`

func scanClient(s rowScanner) (*store.OAuthClient, error) {
	var (
		c                store.OAuthClient
		scopes, grants   string
		access, refresh  int64
		created, changed int64
		used             sql.NullInt64
	)
	if err := s.Scan(&c.ID, &c.Tenant, &c.Name, &c.SecretHash, &c.PublicKey, &scopes, &grants, &access, &refresh, &created, &changed, &used, &c.CreatedBy, &c.RefreshTokenAlone); err != nil {
		return nil, err
	}
	c.Scopes, c.Grants = strings.Fields(scopes), strings.Fields(grants)
	c.AccessTTL, c.RefreshTTL = time.Duration(access)*time.Second, time.Duration(refresh)*time.Second
	c.Created, c.SecretChanged, c.LastUsed = fromMicros(created), fromMicros(changed), timePtr(used)
	if len(c.SecretHash) == 0 {
		c.SecretHash = nil
	}
	return &c, nil
}

// Client returns a client by id.
func (db *DB) Client(ctx context.Context, id string) (*store.OAuthClient, error) {
	c, err := scanClient(db.rdb.QueryRowContext(ctx, db.q(`SELECT `+clientCols+` FROM oauth_clients WHERE id = $1`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scimerr.New(scimerr.NotFound, "no client %q", id)
	}
	return c, err
}

// ListClients lists clients by tenant and name.
func (db *DB) ListClients(ctx context.Context, tenant string) ([]*store.OAuthClient, error) {
	rows, err := db.rdb.QueryContext(ctx, db.q(`SELECT `+clientCols+` FROM oauth_clients WHERE ($1 = '' OR tenant = $1) ORDER BY tenant, name`), tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.OAuthClient
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetClientCredential replaces a client's secret hash and key.
func (db *DB) SetClientCredential(ctx context.Context, id string, secretHash []byte, publicKey string, at time.Time, revokeTokens bool) error {
	defer db.revoked()
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE oauth_clients SET secret_hash = $1, public_key = $2, secret_changed = $3 WHERE id = $4`),
			secretHash, publicKey, micros(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return scimerr.New(scimerr.NotFound, "no client %q", id)
		}
		if revokeTokens {
			_, err = tx.ExecContext(ctx, db.q(`UPDATE oauth_tokens SET revoked = $1 WHERE client_id = $2 AND revoked IS NULL`), micros(at), id)
		}
		return err
	})
}

// SetClientRefreshTokenAlone sets whether the client's refresh tokens may
// be exchanged without its authentication.
func (db *DB) SetClientRefreshTokenAlone(ctx context.Context, id string, on bool) error {
	res, err := db.wdb.ExecContext(ctx, db.q(`UPDATE oauth_clients SET refresh_token_alone = $1 WHERE id = $2`), on, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return scimerr.New(scimerr.NotFound, "no client %q", id)
	}
	return nil
}

// DeleteClient removes a client and revokes its tokens.
func (db *DB) DeleteClient(ctx context.Context, id string, at time.Time) error {
	defer db.revoked()
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM oauth_clients WHERE id = $1`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return scimerr.New(scimerr.NotFound, "no client %q", id)
		}
		_, err = tx.ExecContext(ctx, db.q(`UPDATE oauth_tokens SET revoked = $1 WHERE client_id = $2 AND revoked IS NULL`), micros(at), id)
		return err
	})
}

// CreateServiceAccount stores a new service account.
func (db *DB) CreateServiceAccount(ctx context.Context, a *store.ServiceAccount) error {
	if err := db.needTenant(ctx, a.Tenant); err != nil {
		return err
	}
	_, err := db.wdb.ExecContext(ctx, db.q(`INSERT INTO service_accounts (tenant, name, password_hash, scopes, created, password_changed) VALUES ($1, $2, $3, $4, $5, $6)`),
		a.Tenant, a.Name, a.PasswordHash, strings.Join(a.Scopes, " "), micros(a.Created), micros(a.PasswordChanged))
	if err != nil {
		if db.f.IsUnique(err) {
			return scimerr.New(scimerr.Uniqueness, "a service account named %q already exists in tenant %q", a.Name, a.Tenant)
		}
		return fmt.Errorf("create service account: %w", err)
	}
	return nil
}

const accountCols = `tenant, name, password_hash, scopes, created, password_changed`

func scanAccount(s rowScanner) (*store.ServiceAccount, error) {
	var (
		a                store.ServiceAccount
		scopes           string
		created, changed int64
	)
	if err := s.Scan(&a.Tenant, &a.Name, &a.PasswordHash, &scopes, &created, &changed); err != nil {
		return nil, err
	}
	a.Scopes = strings.Fields(scopes)
	a.Created, a.PasswordChanged = fromMicros(created), fromMicros(changed)
	return &a, nil
}

// ServiceAccount returns one account.
func (db *DB) ServiceAccount(ctx context.Context, tenant, name string) (*store.ServiceAccount, error) {
	a, err := scanAccount(db.rdb.QueryRowContext(ctx, db.q(`SELECT `+accountCols+` FROM service_accounts WHERE tenant = $1 AND name = $2`), tenant, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scimerr.New(scimerr.NotFound, "no service account %q in tenant %q", name, tenant)
	}
	return a, err
}

// ListServiceAccounts lists accounts by tenant and name.
func (db *DB) ListServiceAccounts(ctx context.Context, tenant string) ([]*store.ServiceAccount, error) {
	rows, err := db.rdb.QueryContext(ctx, db.q(`SELECT `+accountCols+` FROM service_accounts WHERE ($1 = '' OR tenant = $1) ORDER BY tenant, name`), tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.ServiceAccount
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (db *DB) revokeSubject(ctx context.Context, tx *sql.Tx, tenant, name string, at time.Time) error {
	_, err := tx.ExecContext(ctx, db.q(`UPDATE oauth_tokens SET revoked = $1 WHERE tenant = $2 AND subject = $3 AND revoked IS NULL`), micros(at), tenant, name)
	return err
}

// SetServicePassword replaces the password hash and revokes the account's tokens.
func (db *DB) SetServicePassword(ctx context.Context, tenant, name, hash string, at time.Time) error {
	defer db.revoked()
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE service_accounts SET password_hash = $1, password_changed = $2 WHERE tenant = $3 AND name = $4`), hash, micros(at), tenant, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return scimerr.New(scimerr.NotFound, "no service account %q in tenant %q", name, tenant)
		}
		return db.revokeSubject(ctx, tx, tenant, name, at)
	})
}

// DeleteServiceAccount removes an account and revokes its tokens.
func (db *DB) DeleteServiceAccount(ctx context.Context, tenant, name string, at time.Time) error {
	defer db.revoked()
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM service_accounts WHERE tenant = $1 AND name = $2`), tenant, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return scimerr.New(scimerr.NotFound, "no service account %q in tenant %q", name, tenant)
		}
		return db.revokeSubject(ctx, tx, tenant, name, at)
	})
}
