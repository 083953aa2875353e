# pamscim: build, test and release. Everything here uses only the Go toolchain
# and the Go module proxy; `make docker` additionally needs Docker.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# The commit's own time, not the wall clock, so that a rebuild of one commit
# gives the same binary.
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
# One build line for the host binary, the release binaries and the Dockerfile.
GOBUILD := CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$(LDFLAGS)"
PLATFORMS := linux/amd64 linux/arm64
DIST := dist

.PHONY: build test ci bench bench-compare soak crash release docker docker-prebuilt clean

build: ## the pamscim binary for this machine
	$(GOBUILD) -o pamscim ./cmd/pamscim

test: ## every test, with the race detector
	go test -race -count=1 ./...

ci: ## what CI runs (gofmt, vet, tests, conformance collections)
	bash .ci/run

bench: ## the benchmarks of bench/RESULTS.md (minutes; seeds 100,000 users)
	go test -run='^$$' -bench=. -benchtime=20000x -count=1 -timeout=60m ./bench

bench-compare: ## bench/load against pamscim, the SCIMMY peer (npm) and the ceiling; LOAD_SIZE=full for 1,000,000 users (bench/README.md)
	bash bench/compare.sh

soak: ## the soak test: 10 minutes of mixed traffic at a steady rate (bench/RESULTS.md)
	PAMSCIM_SOAK=10m go test -run='^TestSoak$$' -count=1 -v -timeout=30m ./bench

crash: build ## 30 SIGKILL rounds against the release-style binary (SQLite; PostgreSQL with PAMSCIM_TEST_POSTGRES)
	PAMSCIM_BIN=$(CURDIR)/pamscim PAMSCIM_CRASH_ROUNDS=30 PAMSCIM_CRASH_MAX_MS=3000 \
		go test -run='^TestCrash' -count=1 -v -timeout=30m ./internal/crashtest

release: ## static binaries for linux/amd64 and linux/arm64 in dist/, with SHA256SUMS
	rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		echo "building $$os/$$arch"; \
		GOOS=$$os GOARCH=$$arch $(GOBUILD) -o $(DIST)/pamscim-$(VERSION)-$$os-$$arch ./cmd/pamscim; \
	done
	cd $(DIST) && sha256sum pamscim-* > SHA256SUMS && cat SHA256SUMS

docker: ## the image, built from source inside Docker (pulls the Go build image)
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) -t pamscim:$(VERSION) .

docker-prebuilt: release ## the image from dist/ binaries: no image pulled at all (FROM scratch)
	docker build --target prebuilt --build-arg VERSION=$(VERSION) -t pamscim:$(VERSION) .

clean:
	rm -rf $(DIST) pamscim
