# The commands a user runs. README.md documents each target.
GO ?= go

.PHONY: test demo vet
test: vet
	$(GO) test -race -count=1 ./...

vet:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: the files above need formatting" && exit 1)
	$(GO) vet ./...

demo:
	$(GO) run ./examples/demo
