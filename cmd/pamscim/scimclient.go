package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pamscim/pamscim/internal/client"
)

// clientFlags are the connection flags of export, fulfill and verify.
type clientFlags struct {
	url, token, tokenFile                   string
	clientID, clientSecret, tokenURL, scope string
	user, password                          string
	timeout                                 time.Duration
	retries                                 int
}

func (f *clientFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.url, "url", env("PAMSCIM_URL", ""), "SCIM base URL, e.g. https://host/scim/v2 (env PAMSCIM_URL)")
	fs.StringVar(&f.token, "token", env("PAMSCIM_TOKEN", ""), "bearer token (env PAMSCIM_TOKEN)")
	fs.StringVar(&f.tokenFile, "token-file", "", "read the bearer token from this file")
	fs.StringVar(&f.clientID, "client-id", env("PAMSCIM_CLIENT_ID", ""), "OAuth 2.0 client id: tokens by the client credentials grant, renewed automatically (env PAMSCIM_CLIENT_ID)")
	fs.StringVar(&f.clientSecret, "client-secret", env("PAMSCIM_CLIENT_SECRET", ""), "OAuth 2.0 client secret (env PAMSCIM_CLIENT_SECRET)")
	fs.StringVar(&f.tokenURL, "token-url", env("PAMSCIM_TOKEN_URL", ""), "OAuth 2.0 token endpoint (default: <url without /v2>/oauth/token, pamscim's /scim/oauth/token)")
	fs.StringVar(&f.scope, "scope", "", "OAuth scopes to ask for, space-separated")
	fs.StringVar(&f.user, "user", env("PAMSCIM_USER", ""), "HTTP Basic user (env PAMSCIM_USER)")
	fs.StringVar(&f.password, "password", env("PAMSCIM_PASSWORD", ""), "HTTP Basic password (env PAMSCIM_PASSWORD)")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "timeout of one HTTP request")
	fs.IntVar(&f.retries, "retries", 5, "retries of a request answered 429 or 5xx (with backoff, honouring Retry-After); 0 for none")
}

// defaultTokenURL: pamscim and seed 000's connector serve the token endpoint
// beside the versioned base (/scim/v2 → /scim/oauth/token).
func defaultTokenURL(base string) string {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		return ""
	}
	u.Path = strings.TrimSuffix(u.Path, "/v2") + "/oauth/token"
	u.RawQuery = ""
	return u.String()
}

func (f *clientFlags) client() (*client.Client, error) {
	if f.url == "" {
		return nil, usageError{errors.New("--url is required (the SCIM base, e.g. https://host/scim/v2)")}
	}
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return nil, usageError{err}
		}
		f.token = strings.TrimSpace(string(b))
	}
	modes := 0
	for _, set := range []bool{f.token != "", f.clientID != "" || f.clientSecret != "", f.user != "" || f.password != ""} {
		if set {
			modes++
		}
	}
	if modes > 1 {
		return nil, usageError{errors.New("give one kind of credentials: --token, --client-id/--client-secret or --user/--password")}
	}
	var a client.Authenticator
	switch {
	case f.token != "":
		a = client.Bearer(f.token)
	case f.clientID != "" || f.clientSecret != "":
		tu := f.tokenURL
		if tu == "" {
			tu = defaultTokenURL(f.url)
		}
		cc, err := client.NewClientCredentials(tu, f.clientID, f.clientSecret, strings.Fields(f.scope), client.NewHTTPClient(f.timeout))
		if err != nil {
			return nil, usageError{err}
		}
		a = cc
	case f.user != "" || f.password != "":
		a = client.Basic{User: f.user, Password: f.password}
	}
	retries := f.retries
	if retries == 0 {
		retries = -1
	}
	c, err := client.New(client.Config{BaseURL: f.url, Auth: a, Timeout: f.timeout, Retry: client.RetryPolicy{MaxRetries: retries}, UserAgent: "pamscim/" + version})
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// connect builds the client and completes a base URL given without /v2, as
// seed 004's connector takes it, saying so on stderr.
func (f *clientFlags) connect(cmd *cobra.Command) (*client.Client, error) {
	c, err := f.client()
	if err != nil {
		return nil, err
	}
	if changed, _ := c.ResolveBase(cmd.Context()); changed {
		fmt.Fprintf(cmd.ErrOrStderr(), "note: no SCIM service at %s; using %s\n", f.url, c.BaseURL())
	}
	return c, nil
}

// isTerminal reports whether f is a terminal (progress is shown only there).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func parsePaging(s string) (client.Paging, error) {
	switch s {
	case "", "auto":
		return client.PagingAuto, nil
	case "index":
		return client.PagingIndex, nil
	case "cursor":
		return client.PagingCursor, nil
	}
	return 0, fmt.Errorf("--paging %q: want auto, index or cursor", s)
}
