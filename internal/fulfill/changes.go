package fulfill

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Op is what a change does.
type Op string

// The changes seed 004's fulfilment makes: users with their attributes, and
// group memberships (never groups themselves).
const (
	Create       Op = "create"
	Update       Op = "update"
	Delete       Op = "delete"
	AddMember    Op = "add-member"
	RemoveMember Op = "remove-member"
)

func parseOp(s string) (Op, error) {
	switch strings.ToLower(strings.NewReplacer("_", "-", " ", "-").Replace(strings.TrimSpace(s))) {
	case "create", "add-user", "insert":
		return Create, nil
	case "update", "modify", "replace":
		return Update, nil
	case "delete", "remove-user":
		return Delete, nil
	case "add-member", "addmember", "add-membership":
		return AddMember, nil
	case "remove-member", "removemember", "remove-membership":
		return RemoveMember, nil
	}
	return "", fmt.Errorf("unknown op %q (want create, update, delete, add-member or remove-member)", s)
}

// Change is one line of a changes file.
type Change struct {
	Line int `json:"line"`
	Op   Op  `json:"op"`
	// The user: by SCIM id, or by userName (looked up with a filter).
	ID       string `json:"id,omitempty"`
	UserName string `json:"userName,omitempty"`
	// Attributes are keyed by the export's column names ("name:givenName",
	// "emails:value", "employeeNumber", or fully qualified with the schema
	// URN). A JSON null removes the attribute on update.
	Attributes map[string]any `json:"attributes,omitempty"`
	// Resource is a whole SCIM User for create (JSON lines only); it is
	// used as it is, with Attributes laid over it.
	Resource map[string]any `json:"resource,omitempty"`
	// The group of a membership change: by id or by displayName.
	Group     string `json:"group,omitempty"`
	GroupName string `json:"groupName,omitempty"`
	// The member: by id or by userName.
	Member         string `json:"member,omitempty"`
	MemberUserName string `json:"memberUserName,omitempty"`
}

func (c *Change) validate() error {
	switch c.Op {
	case Create:
		if c.UserName == "" && c.Resource["userName"] == nil {
			return errors.New("create needs a userName")
		}
		if c.ID != "" {
			return errors.New("create cannot name an id: the server assigns it")
		}
	case Update:
		if c.ID == "" && c.UserName == "" {
			return errors.New("update needs an id or a userName")
		}
		if len(c.Attributes) == 0 {
			return errors.New("update changes no attribute")
		}
	case Delete:
		if c.ID == "" && c.UserName == "" {
			return errors.New("delete needs an id or a userName")
		}
	case AddMember, RemoveMember:
		if c.Group == "" && c.GroupName == "" {
			return fmt.Errorf("%s needs a group or a groupName", c.Op)
		}
		if c.Member == "" && c.MemberUserName == "" && c.ID == "" && c.UserName == "" {
			return fmt.Errorf("%s needs a member or a memberUserName", c.Op)
		}
		// On a membership line, id/userName name the member.
		if c.Member == "" {
			c.Member = c.ID
		}
		if c.MemberUserName == "" {
			c.MemberUserName = c.UserName
		}
	}
	return nil
}

// Target describes whom the change is about, for the report.
func (c *Change) Target() string {
	switch c.Op {
	case AddMember, RemoveMember:
		return or(c.GroupName, c.Group) + " ← " + or(c.MemberUserName, c.Member)
	}
	if c.Resource != nil && c.UserName == "" {
		if s, ok := c.Resource["userName"].(string); ok {
			return s
		}
	}
	return or(c.UserName, c.ID)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Format of a changes file.
type Format string

// Formats.
const (
	CSV       Format = "csv"
	JSONLines Format = "jsonl"
)

// DetectFormat picks the format from a file name: .csv is CSV, .json,
// .jsonl and .ndjson are JSON lines.
func DetectFormat(name string) (Format, error) {
	n := strings.ToLower(name)
	switch {
	case strings.HasSuffix(n, ".csv"):
		return CSV, nil
	case strings.HasSuffix(n, ".jsonl"), strings.HasSuffix(n, ".ndjson"), strings.HasSuffix(n, ".json"):
		return JSONLines, nil
	}
	return "", fmt.Errorf("cannot tell the format of %q: name it .csv or .jsonl, or give --format", name)
}

// Reserved CSV columns; every other column is an attribute.
var reserved = map[string]bool{"op": true, "id": true, "username": true, "group": true, "groupname": true, "member": true, "memberusername": true}

// Parse reads every change, or reports every bad line at once.
func Parse(r io.Reader, f Format) ([]*Change, error) {
	var out []*Change
	var errs []error
	add := func(c *Change, err error) {
		if err == nil {
			err = c.validate()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", c.Line, err))
			return
		}
		out = append(out, c)
	}
	switch f {
	case CSV:
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = -1
		header, err := cr.Read()
		if err != nil {
			return nil, fmt.Errorf("reading the CSV header: %w", err)
		}
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
		hasOp := false
		for _, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), "op") {
				hasOp = true
			}
		}
		if !hasOp {
			return nil, errors.New("the CSV header has no op column")
		}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err // a *csv.ParseError names the line
			}
			line, _ := cr.FieldPos(0)
			if len(rec) != len(header) {
				errs = append(errs, fmt.Errorf("line %d: %d fields, the header has %d", line, len(rec), len(header)))
				continue
			}
			c := &Change{Line: line}
			var perr error
			for i, h := range header {
				h = strings.TrimSpace(h)
				v := rec[i]
				switch strings.ToLower(h) {
				case "op":
					c.Op, perr = parseOp(v)
				case "id":
					c.ID = strings.TrimSpace(v)
				case "username":
					c.UserName = strings.TrimSpace(v)
				case "group":
					c.Group = strings.TrimSpace(v)
				case "groupname":
					c.GroupName = strings.TrimSpace(v)
				case "member":
					c.Member = strings.TrimSpace(v)
				case "memberusername":
					c.MemberUserName = strings.TrimSpace(v)
				default:
					if v == "" {
						continue // an empty cell leaves the attribute as it is
					}
					if c.Attributes == nil {
						c.Attributes = map[string]any{}
					}
					c.Attributes[h] = v
				}
				if perr != nil {
					break
				}
			}
			add(c, perr)
		}
	case JSONLines:
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		line := 0
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 || b[0] == '#' {
				continue
			}
			var raw struct {
				Change
				Op string `json:"op"`
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			dec.UseNumber()
			c := &Change{Line: line}
			if err := dec.Decode(&raw); err != nil {
				add(c, fmt.Errorf("not a change object: %w", err))
				continue
			}
			*c = raw.Change
			c.Line = line
			var err error
			c.Op, err = parseOp(raw.Op)
			add(c, err)
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown format %q", f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
