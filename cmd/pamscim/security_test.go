package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/app"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pamscim test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS runs the real server with --tls-cert/--tls-key on a real
// listener and talks HTTPS to it: the token endpoint and the SCIM API.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	data := filepath.Join(t.TempDir(), "data")
	out, _, err := run(t, "oauth", "create-client", "--name", "tls", "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	id, secret := kv(out, "client_id"), kv(out, "client_secret")
	cfg := &app.Config{Listen: "127.0.0.1:0", Data: data, LogFormat: "text", LogLevel: "error",
		Security: app.Security{TLSCert: certFile, TLSKey: keyFile, RateLimit: app.DefaultRateLimit}}
	ctx, cancel := context.WithCancel(context.Background())
	addrc, done := make(chan string, 1), make(chan error, 1)
	var stderr bytes.Buffer
	go func() { done <- app.Serve(ctx, cfg, &stderr, func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve: %v %s", err, stderr.String())
	}
	defer func() {
		cancel()
		<-done
	}()
	base := "https://" + addr
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest("POST", base+"/scim/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil || res.TLS.Version != tls.VersionTLS13 {
		t.Fatalf("token over TLS: %d %v", res.StatusCode, res.TLS)
	}
	req, _ = http.NewRequest("GET", base+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	res, err = c.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("SCIM over TLS: %v %v", res, err)
	}
	res.Body.Close()
	// The metadata names the https issuer.
	res, _ = c.Get(base + "/.well-known/oauth-authorization-server")
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `"issuer":"`+base+`"`) {
		t.Fatalf("metadata: %s", b)
	}
	// TLS 1.2 is accepted, 1.1 is not; plain HTTP is not served.
	for _, v := range []struct {
		max uint16
		ok  bool
	}{{tls.VersionTLS12, true}, {tls.VersionTLS11, false}} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MaxVersion: v.max})
		if (err == nil) != v.ok {
			t.Fatalf("TLS max %x: %v", v.max, err)
		}
		if conn != nil {
			conn.Close()
		}
	}
	res, err = http.Get("http://" + addr + "/healthz")
	if err == nil {
		if res.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS listener")
		}
		res.Body.Close()
	}
}

func kv(out, key string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v
		}
	}
	return ""
}

func TestOAuthAndAuditCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	must := func(args ...string) string {
		t.Helper()
		out, errOut, err := run(t, append(args, "--data", data)...)
		if err != nil {
			t.Fatalf("%v: %v %s", args, err, errOut)
		}
		return out
	}
	must("tenant", "create", "acme")
	out := must("oauth", "create-client", "--name", "sailpoint", "--tenant", "acme", "--scope", "scim:read", "--access-ttl", "5m")
	id, secret := kv(out, "client_id"), kv(out, "client_secret")
	if id == "" || !strings.HasPrefix(secret, "pamscim_cs_") || strings.Count(out, "\n") != 2 {
		t.Fatalf("create-client: %q", out)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(must("oauth", "create-client", "--name", "okta", "--json", "--grants", "client_credentials,password,refresh_token")), &obj); err != nil ||
		obj["client_id"] == "" || !strings.HasPrefix(obj["client_secret"].(string), "pamscim_cs_") || obj["token_endpoint_auth_method"] != "client_secret_basic" {
		t.Fatalf("--json: %v %v", obj, err)
	}
	list := must("oauth", "list-clients")
	if !strings.Contains(list, "sailpoint") || !strings.Contains(list, id) || strings.Contains(list, "pamscim_cs_") || !strings.Contains(list, "5m0s") {
		t.Fatalf("list-clients: %q", list)
	}
	rot := must("oauth", "rotate-secret", id)
	if s := kv(rot, "client_secret"); s == "" || s == secret {
		t.Fatalf("rotate-secret: %q", rot)
	}
	// Service accounts: the password comes from stdin, never a flag.
	var outb, errb bytes.Buffer
	root := newRoot(&outb, &errb)
	root.SetIn(strings.NewReader("a long service password\n"))
	root.SetArgs([]string{"oauth", "create-account", "svc", "--scope", "scim:read", "--data", data})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err, errb.String())
	}
	if l := must("oauth", "list-accounts"); !strings.Contains(l, "svc") || strings.Contains(l, "argon2") {
		t.Fatalf("list-accounts: %q", l)
	}
	must("oauth", "delete-account", "svc")
	must("oauth", "delete-client", id)
	if strings.Contains(must("oauth", "list-clients"), id) {
		t.Fatal("deleted client listed")
	}
	must("token", "create", "--name", "ninety", "--expires", "90d")
	must("token", "create", "--name", "dated", "--expires", time.Now().AddDate(1, 0, 0).Format("2006-01-02"))
	must("token", "revoke", "ninety")

	trail := must("audit")
	for _, ev := range []string{"client.created", "client.rotated", "account.created", "account.deleted", "client.deleted", "token.issued", "token.revoked"} {
		if !strings.Contains(trail, ev) {
			t.Errorf("audit lacks %s:\n%s", ev, trail)
		}
	}
	if strings.Contains(trail, "pamscim_") || strings.Contains(trail, "long service password") {
		t.Fatalf("a secret in the audit output:\n%s", trail)
	}
	if got := must("audit", "--tenant", "acme", "--json"); strings.Count(got, "\n") != 3 || !strings.Contains(got, `"event":"client.deleted"`) {
		t.Fatalf("--tenant acme --json:\n%s", got)
	}
	if got := must("audit", "--event", "token.", "--since", "1h"); strings.Count(got, "\n") != 4 {
		t.Fatalf("--event token.:\n%s", got)
	}
	if got := must("audit", "--object", "token:ninety", "--limit", "1"); !strings.Contains(got, "token.revoked") || strings.Count(got, "\n") != 2 {
		t.Fatalf("--object --limit:\n%s", got)
	}
	if got := must("audit", "--until", "2000-01-01"); strings.Count(got, "\n") != 1 {
		t.Fatalf("--until:\n%s", got)
	}
	for _, args := range [][]string{
		{"oauth", "create-client"},
		{"oauth", "create-client", "--name", "x", "--scope", "admin"},
		{"oauth", "create-client", "--name", "x", "--grants", "implicit"},
		{"oauth", "create-client", "--name", "x", "--grants", "refresh_token"},
		{"oauth", "rotate-secret"},
		{"audit", "--since", "yesterday"},
		{"audit", "--outcome", "maybe"},
		{"token", "create", "--name", "x", "--expires", "soon"},
		{"token", "create", "--name", "x", "--expires", "2001-01-01"},
		{"serve", "--tls-cert", "only-cert.pem"},
		{"serve", "--trusted-proxy", "not-an-address"},
	} {
		_, _, err := run(t, append(args, "--data", data)...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	// Operational failures are not usage errors (exit 1).
	if _, _, err := run(t, "oauth", "rotate-secret", "no-such-client", "--data", data); err == nil || errors.As(err, new(usageError)) {
		t.Errorf("rotate-secret of an unknown client: %v", err)
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "never": 0, "720h": 720 * time.Hour, "90d": 90 * 24 * time.Hour, "2026-01-31": 30 * 24 * time.Hour,
		"2026-01-01T12:00:00Z": 12 * time.Hour,
	} {
		if got, err := parseExpiry(in, now); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"-1h", "0d", "x", "2025-12-31", "1e9d"} {
		if _, err := parseExpiry(in, now); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
