package pam

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// Step is one link of the chain that grants access.
type Step struct {
	Kind    string `json:"kind"` // Container, SmartRule, Group
	ID      string `json:"id"`
	Display string `json:"display,omitempty"`
}

// Grant is one way a user holds rights on an item.
type Grant struct {
	// Via names the path: "direct", "group", "nested group", "container",
	// "container, group", "smart rule, nested group", and so on.
	Via string `json:"via"`
	// Path lists the containers, smart rules and groups the grant passes
	// through, from the item outwards to the user.
	Path []Step `json:"path"`
	// Permission is the ContainerPermission or PrivilegedDataPermission
	// that holds the rights.
	Permission     string   `json:"permission"`
	PermissionType string   `json:"permissionType"`
	Rights         []string `json:"rights"`
}

// UserAccess is what one user holds on the item.
type UserAccess struct {
	ID       string   `json:"id"`
	UserName string   `json:"userName"`
	Display  string   `json:"display,omitempty"`
	Rights   []string `json:"rights"`
	Grants   []Grant  `json:"grants"`
}

// Access is the effective access to one item of privileged data.
type Access struct {
	Item struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type,omitempty"`
	} `json:"item"`
	Users []UserAccess `json:"users"`
}

// source is a place rights come from: the item itself or a container.
type source struct {
	path  []Step
	via   []string
	ptype string // permission type
	attr  string // the permission attribute naming the target
	id    string
}

// Access computes who holds rights on item id of privileged data and how:
// permissions on the item, on its static container and that container's
// ancestors (rights on a container reach everything below it), and on
// every smart rule whose filter matches the item; each granted to a user
// directly, or to a group and through it (and its nested groups) to the
// group's users.
func (s *Service) Access(ctx context.Context, tenant, id string) (*Access, error) {
	pdrt := s.reg.ResourceType(schema.TypePrivilegedData)
	item, err := s.st.Get(ctx, pdrt, tenant, id, store.GetOptions{})
	if err != nil {
		return nil, err
	}
	out := &Access{Users: []UserAccess{}}
	out.Item.ID = item.ID
	out.Item.Name, _ = item.Doc["name"].(string)
	out.Item.Type, _ = item.Doc["type"].(string)

	sources := []source{{via: []string{"direct"}, ptype: schema.TypePrivilegedDataPermission, attr: "privilegedData.value", id: item.ID}}
	// The static container, then its ancestors.
	holders, err := s.listAll(ctx, tenant, schema.TypeContainer, "privilegedData.value eq "+quote(item.ID), store.GetOptions{})
	if err != nil {
		return nil, err
	}
	var path []Step
	seen := map[string]bool{}
	for len(holders) == 1 && !seen[holders[0].ID] {
		c := holders[0]
		seen[c.ID] = true
		path = append(slices.Clone(path), Step{Kind: schema.TypeContainer, ID: c.ID, Display: s.displayOf(c)})
		via := "container"
		if len(path) > 1 {
			via = "parent container"
		}
		sources = append(sources, source{path: path, via: []string{via}, ptype: schema.TypeContainerPermission, attr: "container.value", id: c.ID})
		parent := refValue(c.Doc, "parent")
		if parent == "" {
			break
		}
		got, err := s.ps.GetMany(ctx, tenant, []string{parent})
		if err != nil {
			return nil, err
		}
		holders = nil
		if p := got[parent]; p != nil {
			holders = []*store.Resource{p}
		}
	}
	// Smart rules that match the item now, evaluated in memory against the
	// one item (filter.Eval, the reference semantics of the SQL compiler).
	rules, err := s.listAll(ctx, tenant, schema.TypeContainer, `type eq "`+SmartRuleType+`"`, store.GetOptions{})
	if err != nil {
		return nil, err
	}
	fr := &filter.Resource{ID: item.ID, Doc: item.Doc, Created: item.Created, Modified: item.Modified}
	for _, r := range rules {
		text, ok := IsSmartRule(r.Doc)
		if !ok {
			continue
		}
		e, err := BindRule(s.reg, text)
		if err != nil || !filter.Eval(pdrt, e, fr) {
			continue
		}
		sources = append(sources, source{path: []Step{{Kind: "SmartRule", ID: r.ID, Display: s.displayOf(r)}}, via: []string{"smart rule"}, ptype: schema.TypeContainerPermission, attr: "container.value", id: r.ID})
	}

	users := map[string]*UserAccess{}
	grant := func(uid string, g Grant) {
		ua := users[uid]
		if ua == nil {
			ua = &UserAccess{ID: uid}
			users[uid] = ua
		}
		ua.Grants = append(ua.Grants, g)
	}
	groupMembers := map[string][]store.Member{}
	members := func(gid string) ([]store.Member, error) {
		if ms, ok := groupMembers[gid]; ok {
			return ms, nil
		}
		g, err := s.st.Get(ctx, s.reg.ResourceType("Group"), tenant, gid, store.GetOptions{Members: true})
		if err != nil {
			return nil, err
		}
		groupMembers[gid] = g.Members
		return g.Members, nil
	}
	groupNames := map[string]string{}
	for _, src := range sources {
		perms, err := s.listAll(ctx, tenant, src.ptype, src.attr+" eq "+quote(src.id), store.GetOptions{})
		if err != nil {
			return nil, err
		}
		for _, p := range perms {
			rights := stringsOf(p.Doc["rights"])
			base := Grant{Permission: p.ID, PermissionType: src.ptype, Rights: rights}
			if uid := refValue(p.Doc, "user"); uid != "" {
				g := base
				g.Path = src.path
				g.Via = join(src.via, "")
				grant(uid, g)
				continue
			}
			gid := refValue(p.Doc, "group")
			if gid == "" {
				continue
			}
			// Walk down from the group; each user is reached once per
			// permission, by the shortest chain of groups.
			type hop struct {
				id   string
				path []Step
			}
			queue := []hop{{gid, nil}}
			visited := map[string]bool{gid: true}
			reached := map[string]bool{}
			for len(queue) > 0 {
				h := queue[0]
				queue = queue[1:]
				if _, ok := groupNames[h.id]; !ok {
					if got, err := s.ps.GetMany(ctx, tenant, []string{h.id}); err == nil && got[h.id] != nil {
						groupNames[h.id] = s.displayOf(got[h.id])
					}
				}
				gpath := append(slices.Clone(h.path), Step{Kind: "Group", ID: h.id, Display: groupNames[h.id]})
				ms, err := members(h.id)
				if err != nil {
					continue // the group went away meanwhile
				}
				for _, m := range ms {
					switch m.Type {
					case "User":
						if reached[m.ID] {
							continue
						}
						reached[m.ID] = true
						g := base
						g.Path = append(slices.Clone(src.path), gpath...)
						kind := "group"
						if len(gpath) > 1 {
							kind = "nested group"
						}
						g.Via = join(src.via, kind)
						grant(m.ID, g)
					case "Group":
						if !visited[m.ID] {
							visited[m.ID] = true
							queue = append(queue, hop{m.ID, gpath})
						}
					}
				}
			}
		}
	}
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	docs, err := s.ps.GetMany(ctx, tenant, ids)
	if err != nil {
		return nil, err
	}
	for id, ua := range users {
		if d := docs[id]; d != nil {
			ua.UserName, _ = d.Doc["userName"].(string)
			ua.Display, _ = d.Doc["displayName"].(string)
		}
		set := map[string]bool{}
		for _, g := range ua.Grants {
			for _, r := range g.Rights {
				if !set[strings.ToLower(r)] {
					set[strings.ToLower(r)] = true
					ua.Rights = append(ua.Rights, r)
				}
			}
		}
		sort.Strings(ua.Rights)
		out.Users = append(out.Users, *ua)
	}
	sort.Slice(out.Users, func(i, j int) bool {
		a, b := strings.ToLower(out.Users[i].UserName), strings.ToLower(out.Users[j].UserName)
		if a != b {
			return a < b
		}
		return out.Users[i].ID < out.Users[j].ID
	})
	return out, nil
}

func join(via []string, extra string) string {
	parts := slices.Clone(via)
	if extra != "" {
		if len(parts) == 1 && parts[0] == "direct" {
			parts = nil
		}
		parts = append(parts, extra)
	}
	return strings.Join(parts, ", ")
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
