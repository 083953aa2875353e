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
		// "/admin" too: the console's mux redirects it to /admin/, with
		// the console's headers.
		if strings.HasPrefix(r.URL.Path, console.Prefix) || r.URL.Path == strings.TrimSuffix(console.Prefix, "/") {
			con.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}), nil
}
