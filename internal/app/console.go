package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/console"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// AdminSessions are the web console's session lifetimes (console.Config);
// zero values mean the console's defaults.
type AdminSessions struct {
	// AdminSessionIdle ends a session after this long without a request.
	AdminSessionIdle time.Duration
	// AdminSessionLifetime ends a session this long after sign-in,
	// whatever its activity.
	AdminSessionLifetime time.Duration
}

func (c *Config) validateConsole() []error {
	var errs []error
	idle, life := c.AdminSessionIdle, c.AdminSessionLifetime
	if idle < 0 || life < 0 {
		errs = append(errs, errors.New("--admin-session-idle and --admin-session-lifetime must not be negative"))
	}
	if idle == 0 {
		idle = console.DefaultIdleTimeout
	}
	if life == 0 {
		life = console.DefaultMaxAge
	}
	if idle > 0 && idle < console.MinIdleTimeout {
		errs = append(errs, fmt.Errorf("--admin-session-idle must be at least %s (a session's activity is recorded once a minute)", console.MinIdleTimeout))
	}
	if idle > 0 && life > 0 && idle > life {
		errs = append(errs, fmt.Errorf("--admin-session-idle (%s) must not exceed --admin-session-lifetime (%s)", idle, life))
	}
	return errs
}

// withConsole puts the web console at /admin/ in front of the SCIM API
// handler. It dispatches on the path prefix alone rather than through a
// ServeMux, so API requests reach the API exactly as before (a ServeMux
// would redirect paths it finds unclean).
func (c *Config) withConsole(api http.Handler, st store.Store, reg *schema.Registry, log *slog.Logger) (http.Handler, error) {
	trusted, _ := c.trustedProxies()
	con, err := console.New(st, reg, console.Config{BaseURL: c.BaseURL, TrustedProxies: trusted,
		IdleTimeout: c.AdminSessionIdle, MaxAge: c.AdminSessionLifetime}, log)
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
