// Package config gives every pamscim setting three equivalent sources: a
// command-line flag, an environment variable and a key in a YAML
// configuration file (--config). The names are derived from the flag so that
// they cannot drift apart: flag --max-body, environment PAMSCIM_MAX_BODY,
// file key max-body (max_body also accepted).
//
// Precedence, highest first: flag, environment variable, file, built-in
// default. Values from every source are parsed by the flag's own type, so a
// duration in the file is written as on the command line ("30s").
// Every problem (unknown key, unparsable value, bad environment variable) is
// collected and reported at once, so that an operator fixes a file in one go.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix prefixes every environment variable.
const EnvPrefix = "PAMSCIM_"

// EnvName is the environment variable of a flag.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Problems is every problem found while resolving settings.
type Problems []error

func (p Problems) Error() string {
	s := make([]string, len(p))
	for i, e := range p {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.Is and errors.As see each problem.
func (p Problems) Unwrap() []error { return p }

// File is a parsed configuration file: setting name to raw value, with the
// line each came from.
type File struct {
	Path   string
	values map[string]entry
}

type entry struct {
	value string
	line  int
}

// Read parses the YAML file at path. The file is a flat mapping of setting
// names to scalar values; anything else is a problem, reported with its line.
func Read(path string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return Parse(path, raw)
}

// Parse parses raw as the configuration file named path.
func Parse(path string, raw []byte) (*File, error) {
	f := &File{Path: path, values: map[string]entry{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil // an empty file sets nothing
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: the file must be a mapping of setting names to values, e.g. \"listen: 0.0.0.0:8080\"", path, root.Line)
	}
	var probs Problems
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		name := strings.ReplaceAll(strings.ToLower(k.Value), "_", "-")
		if prev, dup := f.values[name]; dup {
			probs = append(probs, fmt.Errorf("%s:%d: %s is set twice (first on line %d)", path, k.Line, k.Value, prev.line))
			continue
		}
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
			f.values[name] = entry{"", k.Line}
		case v.Kind == yaml.ScalarNode:
			f.values[name] = entry{v.Value, k.Line}
		case v.Kind == yaml.SequenceNode && allScalars(v):
			// Lists (scopes, say) become the comma-separated flag form.
			parts := make([]string, len(v.Content))
			for j, c := range v.Content {
				parts[j] = c.Value
			}
			f.values[name] = entry{strings.Join(parts, ","), k.Line}
		default:
			probs = append(probs, fmt.Errorf("%s:%d: %s must be a single value, not a nested block", path, k.Line, k.Value))
		}
	}
	if len(probs) > 0 {
		return f, probs
	}
	return f, nil
}

func allScalars(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}

// Names lists the settings in the file, sorted.
func (f *File) Names() []string {
	if f == nil {
		return nil
	}
	out := make([]string, 0, len(f.values))
	for k := range f.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Resolve fills the flags of fs that were not given on the command line,
// first from the file (may be nil), then from the environment, which wins.
// known says whether a name is a setting of any pamscim command: a file is
// shared by every command (serve, token, ...), so a key another command
// uses is skipped here, while a key no command knows is a problem. Flags
// that are not settings (a token's --name) are never read from the
// environment either.
// lookupEnv is os.LookupEnv outside tests.
func Resolve(fs *pflag.FlagSet, f *File, known func(string) bool, lookupEnv func(string) (string, bool)) error {
	var probs Problems
	for _, name := range f.Names() {
		e := f.values[name]
		fl := fs.Lookup(name)
		if fl == nil {
			if !known(name) {
				probs = append(probs, fmt.Errorf("%s:%d: unknown setting %q%s", f.Path, e.line, name, suggest(name, known)))
			}
			continue
		}
		if fl.Changed {
			continue
		}
		if _, set := lookupEnv(EnvName(name)); set {
			continue
		}
		if err := fs.Set(name, e.value); err != nil {
			probs = append(probs, fmt.Errorf("%s:%d: %s: %s", f.Path, e.line, name, badValue(fl, e.value)))
		}
		fl.Changed = false // the command line did not set it
	}
	fs.VisitAll(func(fl *pflag.Flag) {
		if !known(fl.Name) {
			return
		}
		v, set := lookupEnv(EnvName(fl.Name))
		if !set || fl.Changed {
			return
		}
		if err := fs.Set(fl.Name, v); err != nil {
			probs = append(probs, fmt.Errorf("%s: %s", EnvName(fl.Name), badValue(fl, v)))
		}
		fl.Changed = false
	})
	if len(probs) > 0 {
		return probs
	}
	return nil
}

// badValue says what a value should have looked like, by the flag's type.
func badValue(fl *pflag.Flag, v string) string {
	want := fl.Value.Type()
	switch want {
	case "duration":
		want = "duration such as 30s or 5m"
	case "int", "int64", "uint", "uint64", "int32":
		want = "whole number"
	case "bool":
		want = "true or false"
	}
	return fmt.Sprintf("%q is not a valid %s", v, want)
}

// suggest names a close known setting for a misspelt key.
func suggest(name string, known func(string) bool) string {
	for _, c := range []string{strings.TrimSuffix(name, "s"), name + "s", strings.ReplaceAll(name, ".", "-")} {
		if c != name && known(c) {
			return fmt.Sprintf(" (did you mean %q?)", c)
		}
	}
	return ""
}
