# dpcetl — see README.md. Two commands matter on a fresh machine: `make demo` and `make test`.
GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
VERSITYGW := github.com/versity/versitygw/cmd/versitygw@v1.8.0
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# `dpcetl version` prints VERSION and the commit the binary was built from (stamped by -buildvcs).
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/dpcetl/dpcetl/pipelines/cli.Version=$(VERSION)

.PHONY: demo test bench lint build tools sandbox

demo: ## run the whole pipeline on the embedded DPC sandbox; Parquet lands in ./dpcetl-out
	$(GO) run ./cmd/dpcetl run --sandbox

test: tools ## every test: unit, conformance, sandbox end-to-end, S3 (versitygw) and the Airflow DAG compile
	PATH="$(GOBIN):$$PATH" $(GO) test -timeout 30m ./...
	python3 -m py_compile pipelines/airflow/*.py

bench: ## long benchmarks; writes bench/results.txt
	mkdir -p bench
	PATH="$(GOBIN):$$PATH" $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 120m ./... | tee bench/results.txt

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
