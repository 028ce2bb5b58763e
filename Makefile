# dpcetl — see README.md. Two commands matter on a fresh machine: `make demo` and `make test`.
GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
VERSITYGW := github.com/versity/versitygw/cmd/versitygw@v1.8.0
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# `dpcetl version` prints VERSION and the commit the binary was built from (stamped by -buildvcs).
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/dpcetl/dpcetl/pipelines/cli.Version=$(VERSION)

.PHONY: demo test bench lint build tools sandbox chaos image

demo: ## run the whole pipeline on the embedded DPC sandbox; Parquet lands in ./dpcetl-out
	$(GO) run ./cmd/dpcetl run --sandbox

test: tools ## every test: unit, conformance, sandbox end-to-end, S3 (versitygw) and the Airflow DAG compile
	PATH="$(GOBIN):$$PATH" $(GO) test -timeout 30m ./...
	python3 -m py_compile pipelines/airflow/*.py pipelines/examples/*.py

bench: ## long benchmarks; writes bench/results.txt, and bench/results.md (dpcetl vs DuckDB, vs the scan floor, 1 vs 2 cores)
	mkdir -p bench
	PATH="$(GOBIN):$$PATH" $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 120m ./... | tee bench/results.txt
	cd bench/duckdb && npm ci --no-audit --no-fund
	node bench/duckdb/report.mjs

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	@test -x $(GOBIN)/staticcheck || $(GO) install $(STATICCHECK)
	$(GOBIN)/staticcheck ./...

sandbox: ## a standalone DPC sandbox with 1000 patients; credentials for it in .sandbox/
	$(GO) run ./cmd/dpc-sandbox --patients 1000 --credentials-dir .sandbox

build: ## binaries in bin/, stamped with the version and the git commit
	$(GO) build -buildvcs=true -ldflags "$(LDFLAGS)" -o bin/ ./cmd/...

tools: ## the S3-compatible server the load tests run against
	@test -x $(GOBIN)/versitygw || $(GO) install $(VERSITYGW)

chaos: tools ## kill -9 / S3-kill / fault campaign against the real binary (loopback only, < 20 min); writes bench/chaos.md
	PATH="$(GOBIN):$$PATH" $(GO) test -tags chaos -run '^TestChaos$$' -count=1 -timeout 25m -v ./pipelines/chaos/

IMAGE   ?= dpcetl:dev
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
ENGINE  ?= podman

image: ## container image (Dockerfile target prebuilt), built offline with the local Go toolchain, then smoke-run
	rm -rf .image && mkdir -p .image/rootfs/etc/ssl/certs .image/rootfs/work .image/rootfs/tmp
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags "-s -w -X github.com/dpcetl/dpcetl/pipelines/cli.Version=$(VERSION)" -o .image/rootfs/dpcetl ./cmd/dpcetl
	! ldd .image/rootfs/dpcetl >/dev/null 2>&1 # static: no dynamic loader, no libc
	cp /etc/ssl/certs/ca-certificates.crt .image/rootfs/etc/ssl/certs/
	printf 'dpcetl:x:65532:65532:dpcetl:/work:/sbin/nologin\n' > .image/rootfs/etc/passwd
	printf 'dpcetl:x:65532:\n' > .image/rootfs/etc/group
	$(ENGINE) build --target prebuilt -t $(IMAGE) .
	test "$$($(ENGINE) image inspect --format '{{.Config.User}}' $(IMAGE))" = "65532:65532"
	@# Smoke test inside the image. buildah's chroot isolation needs no OCI runtime: here (a
	@# container itself) crun may not set rlimits. The image's user must not write to /, and a
	@# whole run on the embedded sandbox must land in /work.
	ctr=$$(buildah from $(IMAGE)) && trap 'buildah rm '$$ctr' >/dev/null' EXIT && \
	  run() { buildah run --isolation chroot --env DPCETL_API=embedded $$ctr /dpcetl "$$@"; } && \
	  { run version | grep -q '$(VERSION)' || { echo "version is not $(VERSION): $$(run version)"; false; }; } && \
	  { run schema ddl --dialect duckdb --table eob | grep -q 'CREATE OR REPLACE VIEW eob_latest' || { echo "schema ddl failed"; false; }; } && \
	  { ! run run --out /not-writable --log-format json >/dev/null 2>&1 || { echo "the image's user could write to /"; false; }; } && \
	  { run run --out /work/out --log-format json >.image/smoke.out 2>.image/smoke.err && tail -n 1 .image/smoke.out | grep -q '"status":"ok"' || \
	    { echo "run inside the image failed:"; tail -n 20 .image/smoke.err .image/smoke.out; false; }; } && \
	  echo "image $(IMAGE): static, user 65532, version $(VERSION), a sandbox run inside it succeeded"
