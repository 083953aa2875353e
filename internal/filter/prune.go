package filter

import "github.com/pamscim/pamscim/internal/schema"

// Prune prepares e for a resource type that may not define every attribute
// e names: a search at the root (POST /.search) runs one filter over every
// resource type, and RFC 7644 §3.4.2.1 says an attribute a resource type
// does not have counts as having no value there. A comparison on such an
// attribute is decided as the evaluator decides it for an absent value
// (pr, eq, co, … false; ne "x" and eq null true) and removed by boolean
// simplification. What remains names only defined attributes and is bound
// as usual. When nothing remains, all reports that every resource matches
// and none that none does. e itself is not modified.
func Prune(rt *schema.ResourceType, e Expr) (out Expr, all, none bool) {
	out, c := prune(rt, e)
	switch c {
	case constTrue:
		return nil, true, false
	case constFalse:
		return nil, false, true
	}
	return out, false, false
}

type constant uint8

const (
	notConst constant = iota
	constTrue
	constFalse
)

func defined(rt *schema.ResourceType, p AttrPath) bool {
	_, err := rt.ResolvePath(p.String())
	return err == nil
}

func prune(rt *schema.ResourceType, e Expr) (Expr, constant) {
	switch x := e.(type) {
	case *AttrExpr:
		if defined(rt, x.Path) {
			return x, notConst
		}
		if (x.Op == "ne" && x.Value != nil) || (x.Op == "eq" && x.Value == nil) {
			return nil, constTrue
		}
		return nil, constFalse
	case *ValuePath:
		if defined(rt, x.Path) {
			return x, notConst
		}
		return nil, constFalse
	case *NotExpr:
		in, c := prune(rt, x.X)
		switch c {
		case constTrue:
			return nil, constFalse
		case constFalse:
			return nil, constTrue
		}
		return &NotExpr{X: in}, notConst
	case *LogExpr:
		l, lc := prune(rt, x.Left)
		r, rc := prune(rt, x.Right)
		absorb, identity := constFalse, constTrue // and
		if x.Op == "or" {
			absorb, identity = constTrue, constFalse
		}
		switch {
		case lc == absorb || rc == absorb:
			return nil, absorb
		case lc == identity && rc == identity:
			return nil, identity
		case lc == identity:
			return r, notConst
		case rc == identity:
			return l, notConst
		}
		return &LogExpr{Op: x.Op, Left: l, Right: r}, notConst
	}
	return e, notConst
}
