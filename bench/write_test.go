package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/schema"
)

// BenchmarkMembership measures a one-member PATCH add and the matching
// remove, over HTTP, on groups of 100, 10,000 and 200,000 members (the
// seeded store needs PAMSCIM_BENCH_USERS above the largest size). The goal
// (issue 4): flat, the largest within 1.5× of the smallest.
func BenchmarkMembership(b *testing.B) {
	f := setup(b)
	for _, size := range []int{100, 10_000, 200_000} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			if size+1000 > len(f.ids) {
				b.Skipf("needs PAMSCIM_BENCH_USERS > %d", size+1000)
			}
			gid := f.group(b, size)
			// Members to add are users outside the group.
			extra := f.ids[size : size+1000]
			var add, remove latencies
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := extra[i%len(extra)]
				t := time.Now()
				do(b, f, "PATCH", f.url+"/Groups/"+gid, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`"}]}]}`), 204)
				add.add(time.Since(t))
				t = time.Now()
				do(b, f, "PATCH", f.url+"/Groups/"+gid, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"`+id+`\"]"}]}`), 204)
				remove.add(time.Since(t))
			}
			b.StopTimer()
			add.reportAs(b, "add")
			remove.reportAs(b, "remove")
		})
	}
}

// group creates (once per size) a group holding the first size seeded users,
// straight in the store.
func (f *fixture) group(b *testing.B, size int) string {
	if id, ok := f.groups[size]; ok {
		return id
	}
	start := time.Now()
	body := mustJSON(map[string]any{"schemas": []string{schema.GroupURN}, "displayName": fmt.Sprintf("bench group %d", size)})
	res := post(b, f, "/Groups", body, 201)
	gid := res["id"].(string)
	// Add the members in PATCHes of 10,000, as a provisioning platform
	// would fill a large group.
	for i := 0; i < size; i += 10_000 {
		var vals []map[string]string
		for _, id := range f.ids[i:min(size, i+10_000)] {
			vals = append(vals, map[string]string{"value": id})
		}
		do(b, f, "PATCH", f.url+"/Groups/"+gid, mustJSON(map[string]any{
			"schemas": []string{schema.PatchOpURN}, "Operations": []any{map[string]any{"op": "add", "path": "members", "value": vals}}}), 204)
	}
	if f.groups == nil {
		f.groups = map[int]string{}
	}
	f.groups[size] = gid
	fmt.Printf("group of %d members filled in %v\n", size, time.Since(start).Round(time.Millisecond))
	return gid
}

func post(b *testing.B, f *fixture, path string, body []byte, want int) map[string]any {
	req, _ := http.NewRequest("POST", f.url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		b.Fatalf("POST %s: %d %s", path, res.StatusCode, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkPatchUsers measures Entra-style PATCH throughput (replace of
// several attributes, capitalised op, string boolean) with 8 concurrent
// clients over random seeded users.
func BenchmarkPatchUsers(b *testing.B) {
	f := setup(b)
	var lat latencies
	var i atomic.Int64
	b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 clients
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := i.Add(1)
			id := f.ids[(k*7919)%int64(len(f.ids))]
			body := []byte(fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Replace","path":"title","value":"Title %d"},
				{"op":"Replace","path":"active","value":"True"},
				{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Dept %d"}]}`, k, k))
			t := time.Now()
			do(b, f, "PATCH", f.url+"/Users/"+id, body, 204)
			lat.add(time.Since(t))
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	lat.report(b)
}

// BenchmarkCreate1000 compares creating 1,000 users with one Bulk request
// against 1,000 single POSTs, one client, on the seeded store. One
// iteration is 1,000 users; ms/op is the time for all of them.
func BenchmarkCreate1000(b *testing.B) {
	f := setup(b)
	users := func(prefix string) [][]byte {
		out := make([][]byte, 1000)
		for j := range out {
			out[j] = mustJSON(entraUser(fmt.Sprintf("%s%04d-%s", prefix, j, uuid.NewString()[:8])))
		}
		return out
	}
	b.Run("posts", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			us := users(fmt.Sprintf("p%d-", i))
			b.StartTimer()
			for _, u := range us {
				do(b, f, "POST", f.url+"/Users", u, 201)
			}
		}
	})
	b.Run("bulk", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			var ops []map[string]any
			for j, u := range users(fmt.Sprintf("b%d-", i)) {
				ops = append(ops, map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprint(j), "data": json.RawMessage(u)})
			}
			body := mustJSON(map[string]any{"schemas": []string{schema.BulkRequestURN}, "Operations": ops})
			b.StartTimer()
			res := post(b, f, "/Bulk", body, 200)
			b.StopTimer()
			for _, op := range res["Operations"].([]any) {
				if st := op.(map[string]any)["status"]; st != "201" {
					b.Fatalf("bulk operation: %v", op)
				}
			}
			b.StartTimer()
		}
	})
}

func sortDurations(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

func (l *latencies) reportAs(b *testing.B, name string) {
	if len(l.d) == 0 {
		return
	}
	sortDurations(l.d)
	pct := func(p float64) float64 { return float64(l.d[int(float64(len(l.d)-1)*p)].Microseconds()) }
	b.ReportMetric(pct(0.50), name+"-p50-µs")
	b.ReportMetric(pct(0.99), name+"-p99-µs")
}
