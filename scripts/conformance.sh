#!/usr/bin/env bash
# Runs the public SCIM conformance collections (shared/conformance: Okta's "SCIM 2.0 SPEC Test" and
# Microsoft's Entra "SCIM Tests") with newman against a pamscim built from this checkout, each on a
# fresh, empty store, as shared/conformance/README.md describes.
#
#   scripts/conformance.sh [okta|entra|all]      (default: all)
#
# Environment:
#   PAMSCIM_SHARED                   the shared/ folder (default: <repo>/../shared)
#   PAMSCIM_CONFORMANCE_REPORT_ONLY  suites (space-separated) whose failures are printed but do not
#                                    make this script fail; .ci/run sets it from PAMSCIM_CI_OKTA
#                                    and PAMSCIM_CI_ENTRA (required|report)
#   PAMSCIM_KEEP_TMP=1               keep the work folder (binary, data, server logs, newman JSON)
#
# Prints, per suite, "SUITE: N passed, N failed" (newman assertions) and the request and response
# of every failed assertion; the last line sums the suites that count. Exits 1 when a counted suite
# has a failed assertion (or newman or the server fails), 2 on bad usage.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: scripts/conformance.sh [okta|entra|all]" >&2
	exit 2
}
[ $# -le 1 ] || usage
case "${1:-all}" in
okta) SUITES=(okta) ;;
entra) SUITES=(entra) ;;
all) SUITES=(okta entra) ;;
-h | --help)
	sed -n '2,/^set -e/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
	exit 0
	;;
*) usage ;;
esac

ROOT="$(repo_root)"
SHARED="$(shared_dir "$ROOT")"
COLLECTIONS="$SHARED/conformance"
REPORT_ONLY=" ${PAMSCIM_CONFORMANCE_REPORT_ONLY:-} "

command -v go >/dev/null || die "go not found (expected at /usr/local/go/bin)"
command -v node >/dev/null || die "node not found"
command -v npm >/dev/null || die "npm not found"
command -v curl >/dev/null || die "curl not found"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/pamscim-conformance.XXXXXX")"
SERVER_PID=""
SERVER_LOG=""

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do # 10 s
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$?
	stop_server
	if [ "${PAMSCIM_KEEP_TMP:-}" = 1 ]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

server_log_tail() {
	[ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ] || return 0
	echo "---- last 60 lines of the server log ($SERVER_LOG) ----"
	tail -n 60 "$SERVER_LOG"
	echo "---- end of server log ----"
}

# start_server DATA_DIR LOG: starts pamscim on a free port with an empty store in DATA_DIR, waits
# for /healthz and the bootstrap token; sets SERVER_PID, BASE (http://127.0.0.1:PORT) and TOKEN.
start_server() {
	local data="$1" attempt port
	SERVER_LOG="$2"
	for attempt in 1 2 3; do
		port="$(free_port)"
		BASE="http://127.0.0.1:$port"
		"$TMP/pamscim" serve --listen "127.0.0.1:$port" --data "$data" >"$SERVER_LOG" 2>&1 </dev/null &
		SERVER_PID=$!
		for _ in $(seq 1 150); do # 30 s
			if ! kill -0 "$SERVER_PID" 2>/dev/null; then
				break
			fi
			if http_ok "$BASE/healthz"; then
				break
			fi
			sleep 0.2
		done
		if kill -0 "$SERVER_PID" 2>/dev/null && http_ok "$BASE/healthz"; then
			break
		fi
		if kill -0 "$SERVER_PID" 2>/dev/null; then
			server_log_tail
			die "pamscim did not answer $BASE/healthz within 30 s"
		fi
		# It exited: most likely another process took the port between free_port and listen.
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
		warn "pamscim exited at start (attempt $attempt of 3)"
		server_log_tail >&2
		[ "$attempt" -lt 3 ] || die "pamscim would not start"
	done
	for _ in $(seq 1 50); do # 10 s
		[ -s "$data/bootstrap-token" ] && break
		sleep 0.2
	done
	[ -s "$data/bootstrap-token" ] || {
		server_log_tail
		die "no bootstrap token at $data/bootstrap-token"
	}
	TOKEN="$(tr -d '[:space:]' <"$data/bootstrap-token")"
	say "pamscim (pid $SERVER_PID) answers at $BASE, store $data"
}

# okta_seed: the Okta collection reads an existing user first; create one as its README asks.
okta_seed() {
	local out="$TMP/okta/seed-response.json" code
	code="$(curl -sS -o "$out" -w '%{http_code}' --max-time 30 \
		-X POST "$BASE/scim/v2/Users" \
		-H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/scim+json' \
		-H 'Accept: application/scim+json' \
		--data-binary @- <<'JSON'
{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "userName": "conformance.seed@example.com",
  "name": {"givenName": "Conformance", "familyName": "Seed"},
  "emails": [{"value": "conformance.seed@example.com", "type": "work", "primary": true}],
  "active": true
}
JSON
	)" || code=000
	if [ "$code" != 201 ]; then
		echo "POST /scim/v2/Users (seed user) answered $code:"
		cat "$out" 2>/dev/null || true
		echo
		server_log_tail
		die "could not create the seed user the Okta collection needs"
	fi
	say "created the seed user the Okta collection needs"
}

# summarise REPORT SUITE: prints the failed assertions with their request and response, then
# "SUITE: N passed, N failed", and writes "PASSED FAILED" to REPORT.counts.
SUMMARISE_JS='
const fs = require("fs");
const [report, suite] = process.argv.slice(1);
const r = JSON.parse(fs.readFileSync(report, "utf8"));
const run = r.run || {};
const body = (s, n) => {
  if (!s) return "";
  if (s.type === "Buffer" && Array.isArray(s.data)) s = Buffer.from(s.data).toString("utf8");
  if (typeof s !== "string") s = JSON.stringify(s);
  s = s.replace(/\s*\n\s*/g, " ").trim();
  return s.length > n ? s.slice(0, n) + " …(" + s.length + " chars)" : s;
};
const url = (u) => {
  if (!u) return "";
  if (typeof u === "string") return u;
  const proto = u.protocol ? u.protocol + "://" : "";
  const host = Array.isArray(u.host) ? u.host.join(".") : (u.host || "");
  const port = u.port ? ":" + u.port : "";
  const path = Array.isArray(u.path) ? "/" + u.path.join("/") : (u.path || "");
  const q = Array.isArray(u.query) && u.query.length
    ? "?" + u.query.filter(x => !x.disabled).map(x => x.key + (x.value == null ? "" : "=" + x.value)).join("&") : "";
  return proto + host + port + path + q;
};
const reqBody = (q) => {
  const b = q && q.body;
  if (!b) return "";
  if (b.mode === "raw") return b.raw || "";
  if (b.mode === "urlencoded") return (b.urlencoded || []).map(x => x.key + "=" + x.value).join("&");
  return JSON.stringify(b);
};
let passed = 0, failed = 0, n = 0;
for (const ex of run.executions || []) {
  const item = (ex.item && ex.item.name) || "?";
  const bad = [];
  for (const a of ex.assertions || []) {
    if (a.skipped) continue;
    if (a.error) { failed++; bad.push(a); } else passed++;
  }
  const reqErr = ex.requestError;
  if (!bad.length && !reqErr) continue;
  const q = ex.request || {}, s = ex.response || {};
  console.log("");
  console.log("FAILED [" + suite + "] " + item);
  for (const a of bad) console.log("  assertion: " + a.assertion + (a.error.message && a.error.message !== a.assertion ? "\n    -> " + a.error.message : ""));
  console.log("  request:  " + (q.method || "?") + " " + url(q.url));
  const rb = body(reqBody(q), 1200);
  if (rb) console.log("            " + rb);
  if (reqErr) console.log("  request error: " + (reqErr.message || JSON.stringify(reqErr)));
  else console.log("  response: " + (s.code || "?") + " " + (s.status || "") + "\n            " + body(s.stream, 1500));
}
// Failures that are not assertions (a test script that threw, a request that never got an answer).
let other = 0;
for (const f of run.failures || []) {
  const e = f.error || {};
  if (e.name === "AssertionError") continue;
  other++;
  console.log("");
  console.log("ERROR [" + suite + "] " + ((f.source && f.source.name) || "?") + " (" + (f.at || "") + "): " + (e.name || "") + ": " + (e.message || ""));
}
console.log("");
console.log(suite + ": " + passed + " passed, " + failed + " failed" + (other ? " (and " + other + " errors outside assertions)" : ""));
fs.writeFileSync(report + ".counts", passed + " " + (failed + other) + "\n");
'

NEWMAN="$ROOT/conformance/node_modules/.bin/newman"

say "building pamscim"
(cd "$ROOT" && go build -o "$TMP/pamscim" ./cmd/pamscim)

say "installing newman from conformance/package-lock.json"
npm ci --no-audit --no-fund --loglevel=error --prefix "$ROOT/conformance" </dev/null || {
	warn "npm ci failed; trying once more in 10 s"
	sleep 10
	npm ci --no-audit --no-fund --loglevel=error --prefix "$ROOT/conformance" </dev/null
}
[ -x "$NEWMAN" ] || die "newman not installed at $NEWMAN"
say "newman $("$NEWMAN" --version)"

TOTAL_PASSED=0
TOTAL_FAILED=0
STATUS=0

for suite in "${SUITES[@]}"; do
	mkdir -p "$TMP/$suite"
	report="$TMP/$suite/newman.json"
	say "$suite: starting a fresh pamscim"
	start_server "$TMP/$suite/data" "$TMP/$suite/server.log"

	# shellcheck disable=SC2054 # cli,json is one argument
	args=(--color off --disable-unicode --reporters cli,json --reporter-json-export "$report"
		--timeout-request 20000 --timeout 600000)
	case "$suite" in
	okta)
		okta_seed
		collection="$COLLECTIONS/okta-scim20-spec.postman_collection.json"
		args+=(--env-var "SCIMBaseURL=$BASE/scim/v2" --env-var "auth=Bearer $TOKEN")
		;;
	entra)
		collection="$COLLECTIONS/entra-scim-tests.postman_collection.json"
		args+=(--env-var Protocol=http --env-var Server=127.0.0.1 --env-var "Port=:${BASE##*:}"
			--env-var Api=scim/v2 --env-var "token=$TOKEN")
		;;
	esac
	[ -f "$collection" ] || die "collection not found: $collection"

	say "$suite: newman run $(basename "$collection")"
	newman_rc=0
	# (newman's CLI reporter colours its failure table even with --color off: strip escapes.)
	"$NEWMAN" run "$collection" "${args[@]}" </dev/null | sed 's/\x1b\[[0-9;]*m//g' || newman_rc=$?

	counts="0 0"
	if [ -s "$report" ]; then
		node -e "$SUMMARISE_JS" "$report" "$suite" || warn "could not read $report"
		[ -s "$report.counts" ] && counts="$(cat "$report.counts")"
	else
		echo "$suite: newman wrote no report (exit $newman_rc)"
	fi
	read -r passed failed <<<"$counts"
	if [ "$newman_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		failed=1 # newman failed without a failed assertion (bad collection, crash): count it
		echo "$suite: newman exited $newman_rc"
	fi

	report_only=
	[[ "$REPORT_ONLY" == *" $suite "* ]] && report_only=1
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "$suite: the server exited during the run"
		failed=$((failed + 1))
		server_log_tail
	elif [ "$failed" -ne 0 ] && [ -z "$report_only" ]; then
		server_log_tail
	fi
	stop_server

	if [ -n "$report_only" ]; then
		if [ "$failed" -ne 0 ]; then
			echo "$suite is report-only here (PAMSCIM_CONFORMANCE_REPORT_ONLY): its $failed failures do not fail this run"
		fi
		continue
	fi
	TOTAL_PASSED=$((TOTAL_PASSED + passed))
	TOTAL_FAILED=$((TOTAL_FAILED + failed))
	[ "$failed" -eq 0 ] || STATUS=1
done

echo
echo "conformance: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
exit "$STATUS"
