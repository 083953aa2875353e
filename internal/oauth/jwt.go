package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// AssertionType is the client_assertion_type of RFC 7523 §2.2.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// ParsePublicKey reads a PEM public key (PKIX "PUBLIC KEY", or a
// certificate): RSA of at least 2048 bits, ECDSA P-256/384/521 or Ed25519.
func ParsePublicKey(pemText string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("the public key is not PEM")
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		key = k
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		key = c.PublicKey
	default:
		return nil, fmt.Errorf("a PEM %q block is not a public key (want PUBLIC KEY or CERTIFICATE)", block.Type)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("an RSA key needs at least 2048 bits")
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("unsupported key type %T (want RSA, ECDSA or Ed25519)", key)
	}
	return key, nil
}

// methodsFor lists the JWS algorithms a key may sign with, so that a token
// can never pick an algorithm the key was not meant for (no "none", no
// HMAC with the public key as secret).
func methodsFor(key crypto.PublicKey) []string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case *ecdsa.PublicKey:
		switch k.Curve.Params().BitSize {
		case 256:
			return []string{"ES256"}
		case 384:
			return []string{"ES384"}
		case 521:
			return []string{"ES512"}
		}
	case ed25519.PublicKey:
		return []string{"EdDSA"}
	}
	return nil
}

// SigningAlgs are the algorithms the metadata advertises.
var SigningAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// unverifiedIssuer reads iss (and sub) from an assertion before its
// signature is checked, only to find the client whose key checks it.
func unverifiedIssuer(assertion string) (string, error) {
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(assertion, &c); err != nil {
		return "", err
	}
	if c.Issuer == "" || c.Issuer != c.Subject {
		return "", errors.New("iss and sub must both be the client_id")
	}
	return c.Issuer, nil
}

// verifyAssertion checks a client assertion (RFC 7523 §3) signed by c's key:
// iss = sub = client_id, aud one of audiences, exp present and not too far
// ahead, a jti never seen before for this client.
func (s *Service) verifyAssertion(ctx context.Context, c *store.OAuthClient, assertion string, audiences []string) error {
	key, err := ParsePublicKey(c.PublicKey)
	if err != nil {
		return err
	}
	now := s.now()
	var claims jwt.RegisteredClaims
	_, err = jwt.ParseWithClaims(assertion, &claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods(methodsFor(key)),
		jwt.WithIssuer(c.ID), jwt.WithSubject(c.ID), jwt.WithAudience(audiences...),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		return err
	}
	if claims.ID == "" || len(claims.ID) > 256 {
		return errors.New("the assertion needs a jti")
	}
	if claims.ExpiresAt.Sub(now) > s.cfg.MaxAssertionLifetime {
		return fmt.Errorf("the assertion expires more than %s ahead", s.cfg.MaxAssertionLifetime)
	}
	if err := s.st.UseAssertionID(ctx, c.ID, claims.ID, claims.ExpiresAt.Time.Add(time.Minute), now); err != nil {
		if scimerr.KindOf(err) == scimerr.Uniqueness {
			return errors.New("the assertion was already used (jti replay)")
		}
		return err
	}
	return nil
}
