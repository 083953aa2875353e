package app

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/pamscim/pamscim/internal/console"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// withConsole puts the web console at /admin/ in front of the SCIM API
// handler. It dispatches on the path prefix alone rather than through a
// ServeMux, so API requests reach the API exactly as before (a ServeMux
// would redirect paths it finds unclean).
func (c *Config) withConsole(api http.Handler, st store.Store, reg *schema.Registry, log *slog.Logger) (http.Handler, error) {
	trusted, _ := c.trustedProxies()
	con, err := console.New(st, reg, console.Config{BaseURL: c.BaseURL, TrustedProxies: trusted}, log)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, console.Prefix):
			con.ServeHTTP(w, r)
		case r.URL.Path == strings.TrimSuffix(console.Prefix, "/"):
			http.Redirect(w, r, console.Prefix, http.StatusMovedPermanently)
		default:
			api.ServeHTTP(w, r)
		}
	}), nil
}
