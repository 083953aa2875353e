package audit

import "testing"

func TestScrub(t *testing.T) {
	for in, want := range map[string]string{
		"client:abc":                "client:abc",
		"x pamscim_pat_AbC-d_9 y":   "x [redacted] y",
		"pamscim_at_x/pamscim_rt_y": "[redacted]/[redacted]",
		"pamscim_cs_secret":         "[redacted]",
		"pamscim_other_keep":        "pamscim_other_keep",
	} {
		if got := Scrub(in); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", in, got, want)
		}
	}
	long := make([]byte, 2000)
	for i := range long {
		long[i] = 'a'
	}
	if len(Scrub(string(long))) != 512 {
		t.Error("fields are not capped")
	}
}
