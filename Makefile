# The commands a user runs. README.md documents each target.
GO ?= go
# A count of executions per fuzzer: a duration (20s) also works, but before
# Go 1.27 a duration can end in a spurious "context deadline exceeded"
# (go.dev/issue/75804).
FUZZTIME ?= 100000x

.PHONY: test vet demo demo-cluster stress fuzz bench bench-quick bench-scale
test: vet
	$(GO) test -race -count=1 ./...
	cd examples/progress && $(GO) test -race -count=1 ./...
	cd cluster && $(GO) test -race -count=1 ./...
	cd examples/cluster && $(GO) test -race -count=1 ./...

# vet also type-checks every module, test files included, for each of
# PLATFORMS.
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64 windows/amd64 windows/arm64

vet:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: the files above need formatting" && exit 1)
	$(GO) vet ./...
	cd bench && $(GO) vet ./...
	cd examples/progress && $(GO) vet ./...
	cd cluster && $(GO) vet ./...
	cd examples/cluster && $(GO) vet ./...
	@for p in $(PLATFORMS); do \
		echo "GOOS=$${p%/*} GOARCH=$${p#*/} go vet"; \
		for m in . bench examples/progress cluster examples/cluster; do \
			(cd $$m && GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./...) || exit 1; \
		done; \
	done

demo:
	$(GO) run ./examples/demo

# hash_all on a cluster pool: an embedded NATS server and local worker
# processes (examples/cluster/README.md adds machines).
demo-cluster:
	cd examples/cluster && $(GO) run .

# The long reliability suite at full size (a million calls, ten million Map
# items, faults injected into worker processes), then every fuzz target for
# FUZZTIME (executions) each.
stress:
	$(GO) test -race -tags stress -count=1 -timeout 30m -run 'Reliability' .
	$(MAKE) fuzz

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzOptions$$' -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz '^FuzzCodecRoundTrip$$' -fuzztime $(FUZZTIME) ./internal/value
	$(GO) test -run '^$$' -fuzz '^FuzzFastValues$$' -fuzztime $(FUZZTIME) ./internal/value
	$(GO) test -run '^$$' -fuzz '^FuzzPlainValues$$' -fuzztime $(FUZZTIME) ./internal/value
	$(GO) test -run '^$$' -fuzz '^FuzzStreamDecode$$' -fuzztime $(FUZZTIME) ./internal/value
	$(GO) test -run '^$$' -fuzz '^FuzzReflectiveCall$$' -fuzztime $(FUZZTIME) ./internal/registry
	$(GO) test -run '^$$' -fuzz '^FuzzFrames$$' -fuzztime $(FUZZTIME) ./internal/wire
	$(GO) test -run '^$$' -fuzz '^FuzzErrorTree$$' -fuzztime $(FUZZTIME) ./internal/errtree
	cd cluster && $(GO) test -run '^$$' -fuzz '^FuzzMessages$$' -fuzztime $(FUZZTIME) .

# Side-by-side benchmarks against other Go pools and Python (bench/README.md).
bench bench-quick bench-scale:
	$(MAKE) -C bench $@
