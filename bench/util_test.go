package bench

import (
	"encoding/json"
	"os"
	"testing"
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestMain removes the seeded store when the benchmarks are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if fix != nil {
		fix.close()
	}
	if oauthF != nil {
		oauthF.close()
	}
	if pamF != nil {
		pamF.close()
	}
	if perfF != nil {
		perfF.stop()
	}
	os.Exit(code)
}
