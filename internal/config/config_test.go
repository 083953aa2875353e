package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/pamscim/pamscim/internal/config"
)

type settings struct {
	listen  string
	maxBody int64
	timeout time.Duration
	json    bool
}

func flags(s *settings) *pflag.FlagSet {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.StringVar(&s.listen, "listen", "127.0.0.1:8080", "")
	fs.Int64Var(&s.maxBody, "max-body", 10, "")
	fs.DurationVar(&s.timeout, "shutdown-timeout", 30*time.Second, "")
	fs.BoolVar(&s.json, "json", false, "")
	return fs
}

func known(name string) bool {
	switch name {
	case "listen", "max-body", "shutdown-timeout", "json", "scope":
		return true
	}
	return false
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestEnvName(t *testing.T) {
	if got := config.EnvName("database-url"); got != "PAMSCIM_DATABASE_URL" {
		t.Fatal(got)
	}
}

// TestPrecedence: flag over environment over file over default.
func TestPrecedence(t *testing.T) {
	f, err := config.Parse("c.yaml", []byte("listen: 0.0.0.0:9000\nmax_body: 2048\nshutdown-timeout: 5s\njson: true\nscope: [a, b]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want settings
	}{
		{"file only", nil, nil, settings{"0.0.0.0:9000", 2048, 5 * time.Second, true}},
		{"env beats file", nil, map[string]string{"PAMSCIM_MAX_BODY": "99", "PAMSCIM_JSON": "false"}, settings{"0.0.0.0:9000", 99, 5 * time.Second, false}},
		{"flag beats env and file", []string{"--max-body=7", "--listen=:1"}, map[string]string{"PAMSCIM_MAX_BODY": "99"}, settings{":1", 7, 5 * time.Second, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s settings
			fs := flags(&s)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := config.Resolve(fs, f, known, env(tc.env)); err != nil {
				t.Fatal(err)
			}
			if s != tc.want {
				t.Fatalf("got %+v, want %+v", s, tc.want)
			}
			// A value from the file or the environment is not "given on
			// the command line".
			if fs.Lookup("shutdown-timeout").Changed {
				t.Fatal("file value marked as a command-line flag")
			}
		})
	}
	var s settings
	if err := config.Resolve(flags(&s), nil, known, env(nil)); err != nil || s.listen != "127.0.0.1:8080" {
		t.Fatalf("no file: %v %+v", err, s)
	}
}

// TestEveryProblemAtOnce: one run names every bad key and value with its line.
func TestEveryProblemAtOnce(t *testing.T) {
	f, err := config.Parse("c.yaml", []byte("listen: :1\nmax-body: lots\nshutdown-timeout: 5\nlisten-addr: x\njsn: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	var s settings
	err = config.Resolve(flags(&s), f, known, env(map[string]string{"PAMSCIM_JSON": "maybe"}))
	var probs config.Problems
	if !errors.As(err, &probs) || len(probs) != 5 {
		t.Fatalf("want 5 problems, got %v", err)
	}
	for _, want := range []string{
		`c.yaml:2: max-body: "lots" is not a valid whole number`,
		`c.yaml:3: shutdown-timeout: "5" is not a valid duration`,
		`c.yaml:4: unknown setting "listen-addr"`,
		`c.yaml:5: unknown setting "jsn"`,
		`PAMSCIM_JSON: "maybe" is not a valid true or false`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
		names         []string
	}{
		{"empty", "", "", nil},
		{"comments only", "# nothing\n", "", nil},
		{"null value", "listen:\n", "", []string{"listen"}},
		{"not a mapping", "- a\n- b\n", "must be a mapping", nil},
		{"nested", "listen:\n  host: x\n", "c.yaml:1: listen must be a single value", nil},
		{"twice", "listen: a\nLISTEN: b\n", "c.yaml:2: LISTEN is set twice (first on line 1)", nil},
		{"syntax", "listen: [a\n", "c.yaml", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := config.Parse("c.yaml", []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(f.Names(), ",") != strings.Join(tc.names, ",") {
				t.Fatalf("names %v", f.Names())
			}
		})
	}
	if _, err := config.Read(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// FuzzParse: no input crashes the parser, and whatever it accepts resolves
// against a flag set without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "listen: :1\n", "a: [1, 2]\n", "- x\n", "k: {a: 1}\n", "listen: &a x\nmax-body: *a\n", "? [a]\n: b\n", "listen:\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		file, err := config.Parse("f.yaml", raw)
		if err != nil {
			return
		}
		var s settings
		_ = config.Resolve(flags(&s), file, known, env(nil))
	})
}
