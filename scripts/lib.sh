# shellcheck shell=bash
# Helpers shared by .ci/run and scripts/conformance.sh. Source it; it defines functions and sets
# nothing but PATH (Go at /usr/local/go, as on this project's machines).

if [ -d /usr/local/go/bin ]; then
	case ":$PATH:" in
	*:/usr/local/go/bin:*) ;;
	*) PATH="/usr/local/go/bin:$PATH" ;;
	esac
fi
export PATH

# say TEXT...: a progress line, prefixed so it stands out in a long CI log.
say() { printf '==> %s\n' "$*"; }
# warn TEXT...: a warning on stderr.
warn() { printf 'warning: %s\n' "$*" >&2; }
# die TEXT...: the one-line reason on stderr, then exit 1.
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# repo_root: the top of the git work tree this script lives in (falls back to the script's parent
# folder when git cannot tell, e.g. in an exported tarball).
repo_root() {
	local here
	here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
	git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/.." && pwd)
}

# shared_dir ROOT: the project's shared/ folder: $PAMSCIM_SHARED if set, else ROOT/../shared.
shared_dir() {
	local root="$1" dir
	dir="${PAMSCIM_SHARED:-$root/../shared}"
	[ -d "$dir" ] || die "shared folder not found at $dir (set PAMSCIM_SHARED to the folder holding conformance/)"
	(cd "$dir" && pwd)
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# http_ok URL: true when URL answers 2xx within 2 seconds.
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

# tcp_open HOST PORT: true when a TCP connection to HOST:PORT succeeds within 2 seconds.
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# postgres_up: true when PostgreSQL at 127.0.0.1:5432 accepts connections.
postgres_up() {
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h 127.0.0.1 -p 5432 -t 2
	else
		tcp_open 127.0.0.1 5432
	fi
}
