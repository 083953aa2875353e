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

func (db *DB) insertOAuthToken(ctx context.Context, tx *sql.Tx, t *store.OAuthToken) error {
	_, err := tx.ExecContext(ctx, db.q(`INSERT INTO oauth_tokens (hash, kind, tenant, client_id, subject, family, scopes, created, expires)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`),
		t.Hash, t.Kind, t.Tenant, t.ClientID, t.Subject, t.Family, strings.Join(t.Scopes, " "), micros(t.Created), micros(t.Expires))
	if err != nil {
		return fmt.Errorf("insert oauth token: %w", err)
	}
	return nil
}

// IssueTokens stores tokens and, when they include an access token,
// records their client's last use.
func (db *DB) IssueTokens(ctx context.Context, ts ...*store.OAuthToken) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		var access *store.OAuthToken
		for _, t := range ts {
			if err := db.insertOAuthToken(ctx, tx, t); err != nil {
				return err
			}
			if t.Kind == store.KindAccess && access == nil {
				access = t
			}
		}
		if access != nil {
			_, err := tx.ExecContext(ctx, db.q(`UPDATE oauth_clients SET last_used = $1 WHERE id = $2`), micros(access.Created), access.ClientID)
			return err
		}
		return nil
	})
}

// OAuthToken returns a token joined with its (still existing) client.
func (db *DB) OAuthToken(ctx context.Context, hash []byte) (*store.OAuthToken, error) {
	var (
		t                store.OAuthToken
		scopes           string
		created, expires int64
		used, revoked    sql.NullInt64
	)
	err := db.rdb.QueryRowContext(ctx, db.q(`SELECT t.hash, t.kind, t.tenant, t.client_id, t.subject, t.family, t.scopes, t.created, t.expires, t.used, t.revoked, c.name, c.refresh_token_alone
		FROM oauth_tokens t JOIN oauth_clients c ON c.id = t.client_id WHERE t.hash = $1`), hash).
		Scan(&t.Hash, &t.Kind, &t.Tenant, &t.ClientID, &t.Subject, &t.Family, &scopes, &created, &expires, &used, &revoked, &t.ClientName, &t.ClientRefreshTokenAlone)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scimerr.New(scimerr.NotFound, "no such token")
	}
	if err != nil {
		return nil, err
	}
	t.Scopes = strings.Fields(scopes)
	t.Created, t.Expires = fromMicros(created), fromMicros(expires)
	t.Used, t.Revoked = timePtr(used), timePtr(revoked)
	return &t, nil
}

// RotateRefreshToken marks a refresh token used and stores its successors.
// The conditional UPDATE is the arbiter between concurrent presenters of one
// refresh token: exactly one of them sees a row change.
func (db *DB) RotateRefreshToken(ctx context.Context, hash []byte, at time.Time, next ...*store.OAuthToken) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE oauth_tokens SET used = $1 WHERE hash = $2 AND kind = 'refresh' AND used IS NULL AND revoked IS NULL`), micros(at), hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return scimerr.New(scimerr.Conflict, "the refresh token was already used or revoked")
		}
		for _, t := range next {
			if err := db.insertOAuthToken(ctx, tx, t); err != nil {
				return err
			}
		}
		if len(next) > 0 {
			_, err = tx.ExecContext(ctx, db.q(`UPDATE oauth_clients SET last_used = $1 WHERE id = $2`), micros(at), next[0].ClientID)
		}
		return err
	})
}

func (db *DB) revokeWhere(ctx context.Context, where string, arg any, at time.Time) (int, error) {
	defer db.revoked()
	res, err := db.wdb.ExecContext(ctx, db.q(`UPDATE oauth_tokens SET revoked = $1 WHERE `+where+` = $2 AND revoked IS NULL`), micros(at), arg)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// RevokeTokenFamily revokes a grant's whole chain.
func (db *DB) RevokeTokenFamily(ctx context.Context, family string, at time.Time) (int, error) {
	return db.revokeWhere(ctx, "family", family, at)
}

// RevokeClientTokens revokes every token of a client.
func (db *DB) RevokeClientTokens(ctx context.Context, clientID string, at time.Time) (int, error) {
	return db.revokeWhere(ctx, "client_id", clientID, at)
}

// UseAssertionID records a client assertion id; a replay is a Uniqueness error.
func (db *DB) UseAssertionID(ctx context.Context, clientID, jti string, expires, now time.Time) error {
	_, err := db.wdb.ExecContext(ctx, db.q(`INSERT INTO oauth_assertions (client_id, jti, expires) VALUES ($1, $2, $3)`), clientID, jti, micros(expires))
	if err != nil {
		if db.f.IsUnique(err) {
			return scimerr.New(scimerr.Uniqueness, "the client assertion was already used")
		}
		return fmt.Errorf("record assertion: %w", err)
	}
	return nil
}

// PurgeOAuth deletes what expired before t.
func (db *DB) PurgeOAuth(ctx context.Context, before time.Time) (int, error) {
	var total int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		total = 0
		for _, q := range []string{`DELETE FROM oauth_tokens WHERE expires < $1`, `DELETE FROM oauth_assertions WHERE expires < $1`} {
			res, err := tx.ExecContext(ctx, db.q(q), micros(before))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	return int(total), err
}
