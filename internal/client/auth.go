package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Authenticator adds credentials to a request.
type Authenticator interface {
	// Apply sets the request's credentials.
	Apply(ctx context.Context, req *http.Request) error
	// Invalidate forgets cached credentials after a 401 and reports whether
	// new ones can be obtained (so the request is worth repeating once).
	Invalidate() bool
}

// Bearer is a static bearer token (RFC 6750), e.g. a named pamscim token.
type Bearer string

// Apply implements Authenticator.
func (b Bearer) Apply(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+string(b))
	return nil
}

// Invalidate implements Authenticator: a static token cannot be renewed.
func (Bearer) Invalidate() bool { return false }

// Basic is HTTP Basic authentication (RFC 7617).
type Basic struct{ User, Password string }

// Apply implements Authenticator.
func (b Basic) Apply(_ context.Context, req *http.Request) error {
	req.SetBasicAuth(b.User, b.Password)
	return nil
}

// Invalidate implements Authenticator.
func (Basic) Invalidate() bool { return false }

// ClientCredentials obtains access tokens with the OAuth 2.0 client
// credentials grant (RFC 6749 §4.4), caches them, fetches a new one shortly
// before expiry, and again when the server answers 401.
type ClientCredentials struct {
	cfg  clientcredentials.Config
	hc   *http.Client
	skew time.Duration

	mu  sync.Mutex
	tok *oauth2.Token
	// fetches counts token requests (tests, diagnostics).
	fetches int
}

// NewClientCredentials returns an authenticator for the token endpoint
// tokenURL (e.g. https://host/scim/oauth/token). Client authentication is
// tried with HTTP Basic first and form fields after, as RFC 6749 §2.3.1
// allows both. hc is the HTTP client for the token endpoint (nil: default).
func NewClientCredentials(tokenURL, clientID, clientSecret string, scopes []string, hc *http.Client) (*ClientCredentials, error) {
	if tokenURL == "" || clientID == "" || clientSecret == "" {
		return nil, errors.New("OAuth client credentials need a token URL, a client id and a client secret")
	}
	return &ClientCredentials{
		cfg:  clientcredentials.Config{ClientID: clientID, ClientSecret: clientSecret, TokenURL: tokenURL, Scopes: scopes},
		hc:   hc,
		skew: 30 * time.Second,
	}, nil
}

func (c *ClientCredentials) token(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && (c.tok.Expiry.IsZero() || time.Now().Add(c.skew).Before(c.tok.Expiry)) {
		return c.tok, nil
	}
	if c.hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, c.hc)
	}
	t, err := c.cfg.Token(ctx)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			msg := re.ErrorCode
			if re.ErrorDescription != "" {
				msg += ": " + re.ErrorDescription
			}
			if msg == "" {
				msg = strings.TrimSpace(string(re.Body))
			}
			return nil, &TokenError{Status: re.Response.StatusCode, Message: msg}
		}
		return nil, err
	}
	c.fetches++
	c.tok = t
	return t, nil
}

// TokenError is a refusal from the token endpoint.
type TokenError struct {
	Status  int
	Message string
}

func (e *TokenError) Error() string {
	return "token endpoint answered " + http.StatusText(e.Status) + ": " + e.Message
}

// Apply implements Authenticator.
func (c *ClientCredentials) Apply(ctx context.Context, req *http.Request) error {
	t, err := c.token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	return nil
}

// Invalidate implements Authenticator.
func (c *ClientCredentials) Invalidate() bool {
	c.mu.Lock()
	c.tok = nil
	c.mu.Unlock()
	return true
}

// Fetches returns how many tokens have been fetched.
func (c *ClientCredentials) Fetches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}
