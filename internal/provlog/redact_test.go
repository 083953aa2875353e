package provlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
)

const secret = "S3cr3t-Planted-Value"

var testRedactor = NewRedactor(schema.Default())

func TestRedactorNamesFromSchema(t *testing.T) {
	names := strings.Join(testRedactor.Names(), " ")
	// password (User, writeOnly) and secret (the Credential extension,
	// returned never) come from the registry, not from tokenNames alone.
	r := NewRedactor(nil)
	if !strings.Contains(names, "password") || !strings.Contains(names, "secret") {
		t.Fatalf("names %q", names)
	}
	reg := schema.Default()
	reg.AddSchema(&schema.Schema{ID: "urn:example:pin", Name: "Pin", Attributes: []*schema.Attribute{
		{Name: "pinCode", Type: "string", Mutability: "writeOnly", Returned: "never"},
	}}, true)
	withPin := NewRedactor(reg)
	body := []byte(`{"urn:example:pin":{"pinCode":"` + secret + `"}}`)
	if out, _ := withPin.Request(body, "", true); bytes.Contains(out, []byte(secret)) {
		t.Fatalf("a writeOnly attribute of an added schema is kept: %s", out)
	}
	if out, _ := r.Request(body, "", true); !bytes.Contains(out, []byte(secret)) {
		t.Fatalf("without the schema pinCode is ordinary: %s", out)
	}
}

func TestRedactRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		ct   string
		want string // exact output; "" means only check the secret is gone
	}{
		{"user create", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen","password":"` + secret + `","active":true}`, "",
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen","password":"[redacted]","active":true}`},
		{"no secret: kept byte for byte", `{ "userName" : "bjensen",  "x": 1.50 }`, "", `{ "userName" : "bjensen",  "x": 1.50 }`},
		{"upper-case name", `{"PASSWORD":"` + secret + `"}`, "", `{"PASSWORD":"[redacted]"}`},
		{"escaped name", `{"pass\u0077ord":"` + secret + `"}`, "", `{"password":"[redacted]"}`},
		{"URN-qualified name", `{"urn:ietf:params:scim:schemas:core:2.0:User:password":"` + secret + `"}`, "", ""},
		{"credential extension", `{"schemas":["urn:ietf:params:scim:schemas:pam:1.0:PrivilegedData"],"name":"db","urn:pamscim:scim:schemas:extension:1.0:Credential":{"secret":"` + secret + `","username":"root"}}`, "",
			`{"schemas":["urn:ietf:params:scim:schemas:pam:1.0:PrivilegedData"],"name":"db","urn:pamscim:scim:schemas:extension:1.0:Credential":{"secret":"[redacted]","username":"root"}}`},
		{"patch path", `{"Operations":[{"op":"replace","path":"password","value":"` + secret + `"}]}`, "",
			`{"Operations":[{"op":"replace","path":"password","value":"[redacted]"}]}`},
		{"patch value before path, Entra case", `{"Operations":[{"Value":"` + secret + `","Path":"PassWord","op":"Replace"}]}`, "",
			`{"Operations":[{"Value":"[redacted]","Path":"PassWord","op":"Replace"}]}`},
		{"patch value map", `{"Operations":[{"op":"replace","value":{"password":"` + secret + `","displayName":"B"}}]}`, "",
			`{"Operations":[{"op":"replace","value":{"password":"[redacted]","displayName":"B"}}]}`},
		{"patch URN path", `{"Operations":[{"op":"add","path":"urn:pamscim:scim:schemas:extension:1.0:Credential:secret","value":"` + secret + `"}]}`, "", ""},
		{"patch extension path with object", `{"Operations":[{"op":"add","path":"urn:pamscim:scim:schemas:extension:1.0:Credential","value":{"secret":"` + secret + `"}}]}`, "", ""},
		{"patch dotted key in value map", `{"Operations":[{"op":"add","value":{"urn:pamscim:scim:schemas:extension:1.0:Credential:secret":"` + secret + `"}}]}`, "", ""},
		{"patch value array", `{"Operations":[{"op":"add","path":"password","value":["` + secret + `",{"x":"` + secret + `"}]}]}`, "", ""},
		{"patch remove with null", `{"Operations":[{"op":"remove","path":"password","value":null}]}`, "", `{"Operations":[{"op":"remove","path":"password","value":null}]}`},
		{"path with filter", `{"Operations":[{"op":"replace","path":"emails[value eq \"a:b.c\"].value","value":"x@example.com"},{"op":"replace","path":"password[x eq \"y\"]","value":"` + secret + `"}]}`, "",
			`{"Operations":[{"op":"replace","path":"emails[value eq \"a:b.c\"].value","value":"x@example.com"},{"op":"replace","path":"password[x eq \"y\"]","value":"[redacted]"}]}`},
		{"bulk data", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"q","data":{"userName":"a","password":"` + secret + `"}},{"method":"PATCH","path":"/Users/1","data":{"Operations":[{"op":"replace","path":"password","value":"` + secret + `"}]}}]}`, "", ""},
		{"number secret", `{"password":12345678}`, "", `{"password":"[redacted]"}`},
		{"pamscim token anywhere", `{"note":"use pamscim_pat_abcDEF123-_x please"}`, "", `{"note":"use [redacted] please"}`},
		{"order and unicode kept", `{"b":"é<&>","a":"\u2028","password":"x"}`, "", `{"b":"é<&>","a":"` + "\u2028" + `","password":"[redacted]"}`},
		{"malformed JSON: skeleton", `{"userName":"a","password":"` + secret + `",}`, "", `{"userName":"[redacted]","password":"[redacted]",}`},
		{"cut JSON: skeleton", `{"userName":"a","password":"` + secret[:8], "", `{"userName":"[redacted]","password":"[redacted]"`},
		{"not JSON with a secret name", `password=` + secret, "text/plain", `?`},
		{"token endpoint form", `grant_type=refresh_token&refresh_token=` + secret + `&client_id=c1&client_secret=` + secret, "application/x-www-form-urlencoded; charset=utf-8",
			`client_id=c1&client_secret=%5Bredacted%5D&grant_type=refresh_token&refresh_token=%5Bredacted%5D`},
		{"form password grant", `grant_type=password&username=svc&password=` + secret, "application/x-www-form-urlencoded",
			`grant_type=password&password=%5Bredacted%5D&username=svc`},
		{"OAuth token response", `{"access_token":"` + secret + `","token_type":"Bearer","refresh_token":"` + secret + `","expires_in":3600}`, "",
			`{"access_token":"[redacted]","token_type":"Bearer","refresh_token":"[redacted]","expires_in":3600}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := testRedactor.Request([]byte(tc.body), tc.ct, true)
			if bytes.Contains(out, []byte(secret)) || bytes.Contains(out, []byte(secret[:8])) {
				t.Fatalf("secret survived: %s", out)
			}
			if tc.want != "" && string(out) != tc.want {
				t.Fatalf("got  %s\nwant %s", out, tc.want)
			}
		})
	}
}

func TestRedactResponseEcho(t *testing.T) {
	req := `{"userName":"a","password":"` + secret + `"}`
	_, secrets := testRedactor.Request([]byte(req), "application/scim+json", true)
	resp := `{"detail":"value ` + secret + ` is not allowed","status":"400"}`
	out := testRedactor.Response([]byte(resp), "application/scim+json", true, secrets)
	if bytes.Contains(out, []byte(secret)) {
		t.Fatalf("echoed secret survived: %s", out)
	}
	// Short secrets are not hunted in responses: "abc" would blank words.
	_, secrets = testRedactor.Request([]byte(`{"password":"abc"}`), "", true)
	if out := testRedactor.Response([]byte(`{"detail":"abc"}`), "", true, secrets); string(out) != `{"detail":"abc"}` {
		t.Fatalf("short secret: %s", out)
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		max      int
		complete bool
		total    int64
		want     string
	}{
		{"fits", "abc", 3, true, 3, "abc"},
		{"cut", "abcdef", 3, true, 6, "abc\n[pamscim: body cut, 6 bytes in all]"},
		{"capture was partial", "abc", 10, false, 900, "abc\n[pamscim: body cut, 900 bytes in all]"},
		{"utf-8 boundary", "aé", 2, true, 3, "a\n[pamscim: body cut, 3 bytes in all]"},
	} {
		if got := string(Cut([]byte(tc.in), tc.max, tc.complete, tc.total)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// FuzzRedact: any body, any content type: no panic, and what comes out of
// a valid JSON body is valid JSON again.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		`{"password":"x"}`, `{"Operations":[{"op":"replace","path":"password","value":"x"}]}`, `[`, `"`, `{"a":`,
		`{"\u0070assword":1}`, `{"a":"\"password\""}`, `{{{{`, `password=1&x=2`, "\xff\x00", `{"path":"secret","value":{"a":[1,2,{"b":null}]}}`,
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "application/x-www-form-urlencoded")
	}
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		out, secrets := testRedactor.Request(body, ct, true)
		_ = testRedactor.Response(body, ct, true, secrets)
		_, _ = testRedactor.Request(body, ct, false)
		if !isForm(ct) && json.Valid(body) && !json.Valid(out) {
			t.Fatalf("valid JSON in, invalid out:\n%q\n%q", body, out)
		}
		if bytes.Contains(out, []byte("pamscim_pat_")) {
			t.Fatalf("pamscim token survived: %q", out)
		}
	})
}

// FuzzPlanted builds SCIM bodies that put a secret where clients put one
// (choices from the fuzzer) and checks that it never survives, whole or cut
// at any point, in the request or echoed in the response.
func FuzzPlanted(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(0), "hunter2hunter2", uint16(0))
	f.Add(uint8(3), uint8(2), uint8(1), "pa55word!\"\\é", uint16(17))
	f.Add(uint8(7), uint8(5), uint8(3), "\u2028x<>&", uint16(40))
	f.Fuzz(func(t *testing.T, shape, nameForm, opForm uint8, raw string, cut uint16) {
		// A distinctive secret: the fuzzer's text inside markers that occur
		// nowhere else.
		sec := "Zq" + raw + "Qz"
		enc, _ := json.Marshal(sec)
		val := string(enc)
		names := []string{"password", "PASSWORD", "urn:ietf:params:scim:schemas:core:2.0:User:password", `pass\u0077ord`, "PassWord"}
		name := names[int(nameForm)%len(names)]
		ops := []string{"replace", "Replace", "add", "Add", "REPLACE"}
		op := ops[int(opForm)%len(ops)]
		cred := "urn:pamscim:scim:schemas:extension:1.0:Credential"
		bodies := []string{
			`{"userName":"u","` + name + `":` + val + `}`,
			`{"Operations":[{"op":"` + op + `","path":"` + name + `","value":` + val + `}]}`,
			`{"Operations":[{"value":` + val + `,"op":"` + op + `","path":"` + name + `"}]}`,
			`{"Operations":[{"op":"` + op + `","value":{"` + name + `":` + val + `,"active":true}}]}`,
			`{"Operations":[{"op":"` + op + `","path":"` + cred + `:secret","value":` + val + `}]}`,
			`{"Operations":[{"op":"` + op + `","path":"` + cred + `","value":{"secret":` + val + `}}]}`,
			`{"name":"db","` + cred + `":{"secret":` + val + `}}`,
			`{"Operations":[{"method":"POST","path":"/Users","data":{"` + name + `":` + val + `}},{"method":"PATCH","path":"/Users/x","data":{"Operations":[{"op":"` + op + `","path":"` + name + `","value":[` + val + `]}]}}]}`,
		}
		body := bodies[int(shape)%len(bodies)]
		check := func(label string, b []byte) {
			t.Helper()
			if bytes.Contains(b, []byte(sec)) || bytes.Contains(b, enc[1:len(enc)-1]) {
				t.Fatalf("%s: secret %q survived in %s", label, sec, b)
			}
		}
		out, secrets := testRedactor.Request([]byte(body), "application/scim+json", true)
		check("whole", out)
		resp := testRedactor.Response([]byte(`{"detail":"bad value `+string(enc[1:len(enc)-1])+`"}`), "", true, secrets)
		check("echo", resp)
		// Cut anywhere (the capture limit): the skeleton must not keep it.
		n := int(cut) % (len(body) + 1)
		out, _ = testRedactor.Request([]byte(body[:n]), "", false)
		check(fmt.Sprintf("cut at %d", n), out)
	})
}

func TestNeedlesDropNamesHoldingAnother(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"refresh_token", "token", "access_token"}, "[token]"},
		{[]string{"client_secret", "secret", "password"}, "[password secret]"},
		{[]string{"apikey", "api_key"}, "[api_key apikey]"},
		{[]string{"x"}, "[x]"},
	} {
		var got []string
		for _, n := range needles(tc.in) {
			got = append(got, string(n))
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("needles(%v) = %v, want %s", tc.in, got, tc.want)
		}
	}
}

// mayHoldReference is the plain statement of mayHold: lower-case the body,
// look for each needle.
func mayHoldReference(r *Redactor, body []byte) bool {
	low := bytes.Map(func(c rune) rune {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}, body)
	for _, n := range r.needles {
		if bytes.Contains(low, n) {
			return true
		}
	}
	return false
}

func TestMayHold(t *testing.T) {
	r := NewRedactor(schema.Default())
	for _, tc := range []struct {
		body string
		want bool
	}{
		{`{"userName":"bjensen","active":true}`, false},
		{`{"PassWord":"x"}`, true},
		{`{"x":"PAMSCIM_AT_abc"}`, true},
		{`{"a":"\u0070"}`, true},
		{`{"tok":"en"}`, false},
		{`token`, true},
		{`toke`, false},
		{`{"displayName":"Secretariat"}`, true}, // a false alarm costs a parse, never a leak
		{"", false},
	} {
		if got := r.mayHold([]byte(tc.body)); got != tc.want || got != mayHoldReference(r, []byte(tc.body)) {
			t.Errorf("mayHold(%s) = %v, want %v", tc.body, got, tc.want)
		}
	}
}

// FuzzMayHold: the one-pass search answers as the plain one does.
func FuzzMayHold(f *testing.F) {
	r := NewRedactor(schema.Default())
	for _, s := range []string{`{"password":"x"}`, `{"Authorization":"Bearer"}`, `pamscim_`, `\u00`, `API_KEY`, `tokentoken`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, want := r.mayHold(body), mayHoldReference(r, body); got != want {
			t.Fatalf("mayHold(%q) = %v, the plain search says %v", body, got, want)
		}
	})
}
