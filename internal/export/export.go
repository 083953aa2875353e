// Package export copies the resources of any SCIM server into CSV files laid
// out as an identity manager's SCIM connector expects them (seed 004):
// <connection>_<entity>.csv with one column per attribute and
// {attribute}:{sub-attribute} names, and one link file per relation
// (<connection>_members_Groups.csv with the columns value and MemberId,
// <connection>_privilegedData_Containers.csv for container contents).
//
// Resources are streamed from the server page by page and written as they
// arrive, so memory does not grow with the size of the export. Files are
// written under temporary names and renamed into place only when every
// entity has been exported: an interrupted export leaves the previous files
// as they were.
package export

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/client"
)

// Options say what to export and where.
type Options struct {
	// Connection names the files: <Connection>_<entity>.csv.
	Connection string
	// OutDir receives the files; it is created if missing.
	OutDir string
	// Entities are endpoint names ("Users", "Groups"); empty exports every
	// resource type the server advertises (Users and Groups when it
	// advertises none).
	Entities []string
	// Queries hold per-entity query parameters (filter, attributes…), as
	// ParseFilters returns them.
	Queries map[string]url.Values
	// PageSize is the count of each page (seed 004's default: 200).
	PageSize int
	// Paging overrides the choice of cursor or index paging.
	Paging client.Paging
	// Since, when set, exports only the Users modified at or after it
	// (meta.lastModified ge); other entities are always exported in full,
	// as seed 004's incremental mode does.
	Since time.Time
	// Progress receives a one-line progress display (a terminal); nil for
	// none.
	Progress io.Writer
}

// EntitySummary is what was exported of one entity.
type EntitySummary struct {
	Entity    string `json:"entity"`
	Resources int    `json:"resources"`
	// TotalResults is what the server's first page promised; a walk that
	// ends with fewer or more resources is reported, not hidden.
	TotalResults int           `json:"totalResults"`
	Pages        int           `json:"pages"`
	Paging       string        `json:"paging"`
	Incremental  bool          `json:"incremental"`
	Duration     time.Duration `json:"durationNs"`
}

// FileSummary is one written file.
type FileSummary struct {
	Name    string `json:"name"`
	Rows    int    `json:"rows"`
	Columns int    `json:"columns"`
}

// Summary is the outcome of an export.
type Summary struct {
	Entities []EntitySummary `json:"entities"`
	Files    []FileSummary   `json:"files"`
	Duration time.Duration   `json:"durationNs"`
	// NextSince is the --since to give the next incremental export: the
	// server's clock (its Date header) when the Users walk began.
	NextSince time.Time `json:"nextSince"`
}

// ValidConnection checks a connection identifier as seed 004 defines it:
// not empty, not starting with a digit, none of < > : / \ | ? * _.
func ValidConnection(s string) error {
	if s == "" {
		return errors.New("the connection name is empty")
	}
	if s[0] >= '0' && s[0] <= '9' {
		return fmt.Errorf("the connection name %q begins with a digit", s)
	}
	if i := strings.IndexAny(s, `<>:/\|?*_ `); i >= 0 {
		return fmt.Errorf("the connection name %q contains %q; it may not contain < > : / \\ | ? * _ or spaces", s, s[i])
	}
	return nil
}

// Run exports. On error, no file in OutDir has been replaced.
func Run(ctx context.Context, c *client.Client, opt Options) (*Summary, error) {
	start := time.Now()
	if err := ValidConnection(opt.Connection); err != nil {
		return nil, err
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 200
	}
	if err := os.MkdirAll(opt.OutDir, 0o755); err != nil {
		return nil, err
	}
	disc, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	ents, err := entities(disc, opt)
	if err != nil {
		return nil, err
	}
	w := &writer{dir: opt.OutDir}
	defer w.abort()
	sum := &Summary{}
	for _, e := range ents {
		es, err := exportEntity(ctx, c, disc, e, opt, w, sum)
		if err != nil {
			return nil, fmt.Errorf("exporting %s: %w", e.endpoint, err)
		}
		sum.Entities = append(sum.Entities, *es)
	}
	files, err := w.commit()
	if err != nil {
		return nil, err
	}
	sum.Files = files
	sum.Duration = time.Since(start)
	return sum, nil
}

type entity struct {
	endpoint string // "Users"
	rt       *client.ResourceType
}

func entities(d *client.Discovery, opt Options) ([]entity, error) {
	names := slices.Clone(opt.Entities)
	if len(names) == 0 {
		for _, rt := range d.ResourceTypes {
			names = append(names, rt.EndpointName())
		}
		for n := range opt.Queries {
			if !slices.ContainsFunc(names, func(x string) bool { return strings.EqualFold(x, n) }) {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			names = []string{"Users", "Groups"}
		}
	}
	var out []entity
	for _, n := range names {
		rt := d.ResourceType(n)
		if rt == nil && len(d.ResourceTypes) > 0 {
			return nil, fmt.Errorf("the server has no resource type or endpoint %q (it has %s)", n, rtNames(d))
		}
		e := entity{endpoint: strings.Trim(n, "/"), rt: rt}
		if rt != nil {
			e.endpoint = rt.EndpointName()
		}
		out = append(out, e)
	}
	for n := range opt.Queries {
		if !slices.ContainsFunc(out, func(e entity) bool {
			return strings.EqualFold(e.endpoint, n) || (e.rt != nil && strings.EqualFold(e.rt.Name, n))
		}) {
			return nil, fmt.Errorf("the filter names %q, which is not exported", n)
		}
	}
	return out, nil
}

func rtNames(d *client.Discovery) string {
	var n []string
	for _, rt := range d.ResourceTypes {
		n = append(n, rt.EndpointName())
	}
	return strings.Join(n, ", ")
}

func queryFor(opt Options, e entity) url.Values {
	for n, v := range opt.Queries {
		if strings.EqualFold(n, e.endpoint) || (e.rt != nil && strings.EqualFold(n, e.rt.Name)) {
			return v
		}
	}
	return nil
}

func exportEntity(ctx context.Context, c *client.Client, d *client.Discovery, e entity, opt Options, w *writer, sum *Summary) (*EntitySummary, error) {
	start := time.Now()
	lay := newLayout(d, e.rt, e.endpoint)
	main, err := w.create(opt.Connection + "_" + e.endpoint + ".csv")
	if err != nil {
		return nil, err
	}
	main.cols = lay.columns
	links := map[string]*file{}
	for _, l := range lay.links {
		f, err := w.create(opt.Connection + "_" + l + "_" + e.endpoint + ".csv")
		if err != nil {
			return nil, err
		}
		f.cols = []string{"value", "MemberId"}
		links[strings.ToLower(l)] = f
	}

	lo := client.ListOptions{PageSize: opt.PageSize, Paging: opt.Paging, Extra: url.Values{}}
	for k, vs := range queryFor(opt, e) {
		if strings.EqualFold(k, "filter") {
			lo.Filter = vs[0]
			continue
		}
		lo.Extra[k] = vs
	}
	if lay.needRequest && lo.Extra.Get("attributes") == "" && lo.Extra.Get("excludedAttributes") == "" {
		lo.Attributes = append([]string{"externalId"}, lay.request...)
	}
	incremental := !opt.Since.IsZero() && isUsers(e)
	if incremental {
		since := fmt.Sprintf("meta.lastModified ge %q", opt.Since.UTC().Format(time.RFC3339Nano))
		if lo.Filter != "" {
			lo.Filter = "(" + lo.Filter + ") and " + since
		} else {
			lo.Filter = since
		}
	}
	prog := newProgress(opt.Progress, e.endpoint)
	total := 0
	st, err := c.List(ctx, "/"+e.endpoint, lo, func(r client.Resource) error {
		row := lay.flatten(r, main)
		if err := main.write(row); err != nil {
			return err
		}
		id := r.ID()
		for _, l := range lay.links {
			for _, v := range lay.linkValues(r, l) {
				if err := links[strings.ToLower(l)].write([]string{id, v}); err != nil {
					return err
				}
			}
		}
		total++
		prog.tick(total)
		return nil
	})
	prog.done(total, st)
	if err != nil {
		return nil, err
	}
	if isUsers(e) {
		sum.NextSince = nextSince(st.FirstHeader, start)
	}
	paging := "index"
	if st.Paging == client.PagingCursor {
		paging = "cursor"
	}
	return &EntitySummary{Entity: e.endpoint, Resources: st.Resources, TotalResults: st.TotalResults, Pages: st.Pages, Paging: paging, Incremental: incremental, Duration: time.Since(start)}, nil
}

func isUsers(e entity) bool {
	return strings.EqualFold(e.endpoint, "Users") || (e.rt != nil && strings.EqualFold(e.rt.Name, "User"))
}

// nextSince is the server's Date at the first page: its clock, not ours, so
// clock skew cannot lose a change. Date is truncated to the second, so with
// "ge" a change made during the export is exported again next time rather
// than missed.
func nextSince(h map[string][]string, fallback time.Time) time.Time {
	if h != nil {
		if v := h["Date"]; len(v) > 0 {
			if t, err := http.ParseTime(v[0]); err == nil {
				return t.UTC()
			}
		}
	}
	return fallback.UTC().Truncate(time.Second)
}

// writer owns the files of one export: temporary until commit.
type writer struct {
	dir   string
	files []*file
}

type file struct {
	final, tmp string
	f          *os.File
	csv        *csv.Writer
	cols       []string // grows when resources carry undeclared attributes
	width0     int      // the number of columns when the first row was written
	widened    bool
	rows       int
}

func (w *writer) create(name string) (*file, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	tmp := filepath.Join(w.dir, "."+name+".body-"+hex.EncodeToString(b[:]))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	fl := &file{final: filepath.Join(w.dir, name), tmp: tmp, f: f, csv: csv.NewWriter(f), width0: -1}
	w.files = append(w.files, fl)
	return fl, nil
}

func (f *file) write(row []string) error {
	if f.width0 < 0 {
		f.width0 = len(f.cols)
	}
	if len(row) != f.width0 {
		f.widened = true
	}
	f.rows++
	return f.csv.Write(row)
}

// commit writes each header, widens rows where undeclared attributes added
// columns, syncs, and renames every file into place.
func (w *writer) commit() ([]FileSummary, error) {
	var out []FileSummary
	var finals []string
	for _, f := range w.files {
		f.csv.Flush()
		if err := f.csv.Error(); err != nil {
			return nil, err
		}
		if err := f.f.Close(); err != nil {
			return nil, err
		}
		final, err := f.finish()
		if err != nil {
			return nil, err
		}
		finals = append(finals, final)
		out = append(out, FileSummary{Name: filepath.Base(f.final), Rows: f.rows, Columns: len(f.cols)})
	}
	for i, f := range w.files {
		if err := os.Rename(finals[i], f.final); err != nil {
			return nil, err
		}
	}
	w.files = nil
	if d, err := os.Open(w.dir); err == nil {
		_ = d.Sync() // make the renames durable where the platform allows
		d.Close()
	}
	return out, nil
}

// finish writes the complete file (header and rows padded to the final
// width) under a second temporary name, and returns that name.
func (f *file) finish() (string, error) {
	tmp := strings.Replace(f.tmp, ".body-", ".csv-", 1)
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return "", err
	}
	defer out.Close()
	cw := csv.NewWriter(out)
	if err := cw.Write(f.cols); err != nil {
		return "", err
	}
	in, err := os.Open(f.tmp)
	if err != nil {
		return "", err
	}
	defer func() { in.Close(); os.Remove(f.tmp) }()
	if !f.widened && f.width0 == len(f.cols) || f.rows == 0 {
		cw.Flush()
		if _, err := io.Copy(out, in); err != nil {
			return "", err
		}
	} else {
		cr := csv.NewReader(in)
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		pad := make([]string, 0, len(f.cols))
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return "", err
			}
			pad = append(pad[:0], rec...)
			for len(pad) < len(f.cols) {
				pad = append(pad, "")
			}
			if err := cw.Write(pad); err != nil {
				return "", err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return "", err
	}
	if err := out.Sync(); err != nil {
		return "", err
	}
	return tmp, out.Close()
}

// abort removes every temporary file of an export that did not commit.
func (w *writer) abort() {
	for _, f := range w.files {
		f.f.Close()
		os.Remove(f.tmp)
		os.Remove(strings.Replace(f.tmp, ".body-", ".csv-", 1))
	}
}

// progress is a one-line display, redrawn at most five times a second.
type progress struct {
	w      io.Writer
	entity string
	start  time.Time
	last   time.Time
}

func newProgress(w io.Writer, entity string) *progress {
	return &progress{w: w, entity: entity, start: time.Now()}
}

func (p *progress) tick(n int) {
	if p.w == nil {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		rate := float64(n) / now.Sub(p.start).Seconds()
		fmt.Fprintf(p.w, "\r\033[K%s: %d exported (%.0f/s)", p.entity, n, rate)
	}
}

func (p *progress) done(n int, st *client.ListStats) {
	if p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s: %d exported in %s\n", p.entity, n, time.Since(p.start).Round(time.Millisecond))
}
