package oauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/oauth"
)

func pemOf(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestPrivateKeyJWT(t *testing.T) {
	e := newEnv(t, envOpt{realClock: true})
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)

	ctx := context.Background()
	mk := func(pub any) string {
		c, secret, err := e.svc.CreateClient(ctx, oauth.ClientSpec{Tenant: "default", Name: uuid.NewString(), PublicKeyPEM: pemOf(t, pub)}, "test")
		if err != nil || secret != "" {
			t.Fatalf("%v %q", err, secret)
		}
		return c.ID
	}
	ecID, edID, rsaID := mk(&ecKey.PublicKey), mk(edPub), mk(&rsaKey.PublicKey)
	secretID, secret := e.client(oauth.ClientSpec{})
	aud := e.srv.URL + "/scim/oauth/token"
	claims := func(id string) jwt.RegisteredClaims {
		now := time.Now()
		return jwt.RegisteredClaims{Issuer: id, Subject: id, Audience: jwt.ClaimStrings{aud}, ID: uuid.NewString(),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(2 * time.Minute))}
	}
	sign := func(m jwt.SigningMethod, key any, c jwt.RegisteredClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	assert := func(a string, extra ...string) *tokResp {
		return e.post("/scim/oauth/token", form(append([]string{"grant_type", "client_credentials",
			"client_assertion_type", oauth.AssertionType, "client_assertion", a}, extra...)...))
	}

	good := sign(jwt.SigningMethodES256, ecKey, claims(ecID))
	r := e.token(form("grant_type", "client_credentials", "client_assertion_type", oauth.AssertionType, "client_assertion", good, "client_id", ecID))
	if e.scim(r.str("access_token"), "GET", "/Users", nil).status != 200 {
		t.Fatal("the assertion client's token is refused")
	}
	e.token(form("grant_type", "client_credentials", "client_assertion_type", oauth.AssertionType, "client_assertion", sign(jwt.SigningMethodEdDSA, edKey, claims(edID))))
	e.token(form("grant_type", "client_credentials", "client_assertion_type", oauth.AssertionType, "client_assertion", sign(jwt.SigningMethodPS256, rsaKey, claims(rsaID))))
	// The audience may be the issuer too.
	c := claims(ecID)
	c.Audience = jwt.ClaimStrings{e.srv.URL}
	e.token(form("grant_type", "client_credentials", "client_assertion_type", oauth.AssertionType, "client_assertion", sign(jwt.SigningMethodES256, ecKey, c)))

	expired := claims(ecID)
	expired.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
	noExp := claims(ecID)
	noExp.ExpiresAt = nil
	noJTI := claims(ecID)
	noJTI.ID = ""
	farExp := claims(ecID)
	farExp.ExpiresAt = jwt.NewNumericDate(time.Now().Add(3 * time.Hour))
	wrongAud := claims(ecID)
	wrongAud.Audience = jwt.ClaimStrings{"https://elsewhere.example/token"}
	subDiffers := claims(ecID)
	subDiffers.Subject = edID
	hmacWithPublicKey := sign(jwt.SigningMethodHS256, []byte(pemOf(t, &ecKey.PublicKey)), claims(ecID))
	none := sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(ecID))

	for _, tc := range []struct {
		name, assertion string
		extra           []string
	}{
		{"replayed", good, nil},
		{"signed by another key", sign(jwt.SigningMethodES256, otherKey, claims(ecID)), nil},
		{"expired", sign(jwt.SigningMethodES256, ecKey, expired), nil},
		{"no exp", sign(jwt.SigningMethodES256, ecKey, noExp), nil},
		{"no jti", sign(jwt.SigningMethodES256, ecKey, noJTI), nil},
		{"exp too far ahead", sign(jwt.SigningMethodES256, ecKey, farExp), nil},
		{"wrong audience", sign(jwt.SigningMethodES256, ecKey, wrongAud), nil},
		{"sub differs from iss", sign(jwt.SigningMethodES256, ecKey, subDiffers), nil},
		{"HS256 keyed with the public key", hmacWithPublicKey, nil},
		{"alg none", none, nil},
		{"not a JWT", "not.a.jwt", nil},
		{"a secret client's id", sign(jwt.SigningMethodES256, ecKey, claims(secretID)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert(tc.assertion, tc.extra...).wantError(t, 401, "invalid_client")
		})
	}
	// A key client cannot use a secret, and assertion plus Basic is two methods.
	e.post("/scim/oauth/token", form("grant_type", "client_credentials", "client_id", ecID, "client_secret", secret)).wantError(t, 401, "invalid_client")
	e.post("/scim/oauth/token", form("grant_type", "client_credentials", "client_assertion_type", oauth.AssertionType,
		"client_assertion", sign(jwt.SigningMethodES256, ecKey, claims(ecID))), ecID, "x").wantError(t, 400, "invalid_request")
	assert(sign(jwt.SigningMethodES256, ecKey, claims(ecID)), "client_id", edID).wantError(t, 400, "invalid_request")
	e.post("/scim/oauth/token", form("grant_type", "client_credentials", "client_assertion_type", "urn:other", "client_assertion", good)).wantError(t, 400, "invalid_request")

	// A new key replaces the old at once.
	if _, err := e.svc.RotateSecret(ctx, ecID, pemOf(t, &otherKey.PublicKey), false, "test"); err != nil {
		t.Fatal(err)
	}
	assert(sign(jwt.SigningMethodES256, ecKey, claims(ecID))).wantError(t, 401, "invalid_client")
	e.token(form("grant_type", "client_credentials", "client_assertion_type", oauth.AssertionType, "client_assertion", sign(jwt.SigningMethodES256, otherKey, claims(ecID))))
}

func TestParsePublicKey(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for _, tc := range []struct{ name, pem string }{
		{"not PEM", "hello"},
		{"private key block", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
		{"RSA 1024", pemOf(t, &small.PublicKey)},
	} {
		if _, err := oauth.ParsePublicKey(tc.pem); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
