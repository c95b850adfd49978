GO ?= go

.PHONY: test vet build fmt bench

# The one test command (README, .ci/run): vet, then every test with the race detector.
test: vet
	$(GO) test -race -count=1 -timeout 30m ./...

vet:
	$(GO) vet ./...

build:
	CGO_ENABLED=0 $(GO) build -o bin/whet ./cmd/whet

fmt:
	gofmt -w $$(git ls-files '*.go')
