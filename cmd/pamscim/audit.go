package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/store"
)

// parseWhen reads a point in time: RFC 3339, a date, or a duration back
// from now ("24h" is a day ago).
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want RFC 3339 (2026-05-01T12:00:00Z), a date (2026-05-01) or a duration back from now (24h)", flag, s)
}

func auditCmd() *cobra.Command {
	c := &app.Config{}
	var (
		q            store.AuditQuery
		since, until string
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "audit [--tenant T] [--actor A] [--event E] [--outcome O] [--type T] [--object ID] [--since T] [--until T] [--limit N] [--json]",
		Short: "Show the audit trail: tokens issued, refused, refreshed and revoked, and every SCIM write",
		Long: `Show the audit trail, oldest first, of the newest --limit events that match.

Events: token.issued, token.refused, token.refreshed, token.reused (a used
refresh token came back; its chain was revoked), token.revoked,
client.created, client.rotated, client.changed (refresh tokens alone on or
off), client.lifetimes, client.deleted, account.created,
account.password, account.deleted, scim.create, scim.replace, scim.patch,
scim.delete. --event token. (with the dot) selects every token event.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			var err error
			if q.Since, err = parseWhen("--since", since, now); err != nil {
				return usageError{err}
			}
			if q.Until, err = parseWhen("--until", until, now); err != nil {
				return usageError{err}
			}
			if q.Limit < 0 {
				return usageError{errors.New("--limit must be positive")}
			}
			switch q.Outcome {
			case "", "success", "failure":
			default:
				return usageError{errors.New("--outcome must be success or failure")}
			}
			return withStore(cmd, c, func(st store.Store) error {
				evs, err := st.ListAudit(cmd.Context(), q)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					enc := json.NewEncoder(out)
					for _, e := range evs {
						if err := enc.Encode(map[string]any{"id": e.ID, "time": e.Time.Format(time.RFC3339Nano), "tenant": e.Tenant, "actor": e.Actor,
							"event": e.Event, "outcome": e.Outcome, "type": e.Type, "object": e.Object, "source": e.Source, "detail": e.Detail}); err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TIME\tTENANT\tACTOR\tEVENT\tOUTCOME\tTYPE\tOBJECT\tSOURCE\tDETAIL")
				for _, e := range evs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), dash(e.Tenant), dash(e.Actor), e.Event, e.Outcome,
						dash(e.Type), dash(e.Object), dash(e.Source), strings.ReplaceAll(e.Detail, "\t", " "))
				}
				return tw.Flush()
			})
		},
	}
	storeFlags(cmd.PersistentFlags(), c)
	f := cmd.Flags()
	f.StringVar(&q.Tenant, "tenant", "", "only this tenant")
	f.StringVar(&q.Actor, "actor", "", "only this actor, e.g. token:entra or client:<id>")
	f.StringVar(&q.Event, "event", "", "only this event, or a prefix ending in a dot (token.)")
	f.StringVar(&q.Outcome, "outcome", "", "success or failure")
	f.StringVar(&q.Type, "type", "", "only writes of this resource type (User, Group, …)")
	f.StringVar(&q.Object, "object", "", "only this resource id or object (client:<id>, token:<name>, family:<id>)")
	f.StringVar(&since, "since", "", "from this time: RFC 3339, a date, or a duration back from now (24h)")
	f.StringVar(&until, "until", "", "before this time (same forms as --since)")
	f.IntVar(&q.Limit, "limit", 100, "at most this many events (the newest)")
	f.BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
