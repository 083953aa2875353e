package api

import (
	"context"
	"strings"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/patch"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// A User's password is writeOnly and returned never (RFC 7643 §4.1.1), and
// pamscim keeps only its argon2id hash: the document the store holds has
// "$argon2id$…" where the client sent the password.
//
// Hashing costs tens of milliseconds, so it happens before the write
// transaction, never inside it (which would hold SQLite's one writer for
// that long): POST and PUT hash the body's password first; PATCH hashes
// every password its operations carry and writes the hashes into the
// operations. A password equal to the stored one keeps the stored hash, so
// re-sending it (Okta's PUT carries it on every update) changes nothing and
// keeps the version. Inside the transaction hashedPassword is the last
// guard: a password that reached the document by a way not foreseen here is
// hashed there, slowly but never stored in clear.

// passwordAttr is rt's password attribute, nil for types without one.
func passwordAttr(rt *schema.ResourceType) *schema.Attribute {
	if rt.Name != "User" {
		return nil
	}
	return rt.Schema.Attr("password")
}

// hashDocPassword replaces the password of a POST or PUT body by its hash;
// cur, when not nil, is the resource being replaced.
func (s *Server) hashDocPassword(rt *schema.ResourceType, doc schema.Doc, cur *store.Resource) error {
	a := passwordAttr(rt)
	if a == nil {
		return nil
	}
	pw, ok := doc[a.Name].(string)
	if !ok || auth.IsPasswordHash(pw) {
		return nil
	}
	h, err := s.passwordHash(pw, cur, a)
	if err != nil {
		return err
	}
	doc[a.Name] = h
	return nil
}

// passwordHash is the hash to store for pw: the current one when pw matches
// it, else a new one.
func (s *Server) passwordHash(pw string, cur *store.Resource, a *schema.Attribute) (string, error) {
	if cur != nil {
		if old, _ := cur.Doc[a.Name].(string); old != "" && auth.CheckUserPassword(old, pw) {
			return old, nil
		}
	}
	return auth.HashUserPassword(pw)
}

// hashPatchPasswords rewrites the passwords that PATCH operations carry
// (path "password", its URN form, or a "password" member of a value
// object) as their hashes. cur is the resource as read before the
// transaction, to recognise a password that does not change.
func (s *Server) hashPatchPasswords(ctx context.Context, rt *schema.ResourceType, ops []patch.Op, tenant, id string) error {
	a := passwordAttr(rt)
	if a == nil {
		return nil
	}
	var cur *store.Resource
	loaded := false
	hash := func(pw string) (string, error) {
		if !loaded {
			loaded = true
			// A missing resource is the transaction's 404 to give.
			cur, _ = s.store.Get(ctx, rt, tenant, id, store.GetOptions{})
		}
		return s.passwordHash(pw, cur, a)
	}
	for i := range ops {
		op := &ops[i]
		if op.Op == patch.OpRemove {
			continue
		}
		if op.Path != "" {
			p, err := rt.ResolvePath(op.Path)
			if err != nil || p.Attr != a || p.Sub != nil {
				continue
			}
			if pw, ok := op.Value.(string); ok && !auth.IsPasswordHash(pw) {
				h, err := hash(pw)
				if err != nil {
					return err
				}
				op.Value = h
			}
			continue
		}
		obj, ok := op.Value.(map[string]any)
		if !ok {
			continue
		}
		for k, v := range obj {
			pw, ok := v.(string)
			if !ok || auth.IsPasswordHash(pw) || !isPasswordKey(rt, k) {
				continue
			}
			h, err := hash(pw)
			if err != nil {
				return err
			}
			// A copy: the decoded operations may be logged or retried.
			cp := make(map[string]any, len(obj))
			for k2, v2 := range obj {
				cp[k2] = v2
			}
			cp[k] = h
			obj = cp
			op.Value = obj
		}
	}
	return nil
}

// isPasswordKey: a value object names the password as "password" in any
// case, or by its full URN.
func isPasswordKey(rt *schema.ResourceType, k string) bool {
	if strings.EqualFold(k, "password") {
		return true
	}
	urn := rt.Schema.ID + ":password"
	return strings.EqualFold(k, urn)
}

// hashedPassword is the in-transaction guard: a password in next that is
// not a hash is hashed here.
func hashedPassword(rt *schema.ResourceType, next schema.Doc) error {
	a := passwordAttr(rt)
	if a == nil {
		return nil
	}
	pw, ok := next[a.Name].(string)
	if !ok || auth.IsPasswordHash(pw) {
		return nil
	}
	h, err := auth.HashUserPassword(pw)
	if err != nil {
		return err
	}
	next[a.Name] = h
	return nil
}
