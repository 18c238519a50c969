# make test: formatting, vet, staticcheck and every test with the race detector. Service-backed suites
# (MariaDB, Redis, RabbitMQ) run when their MINIMART_TEST_* variables are set and are
# skipped, with a note, when they are not. .ci/run sets them and MINIMART_REQUIRE_SERVICES=1.
SERVICE_VARS := MINIMART_TEST_MYSQL_URL MINIMART_TEST_REDIS_URL MINIMART_TEST_AMQP_URL
# staticcheck, pinned (v0.8.x is the release for Go 1.26); go run fetches it through the module proxy.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test fmt vet lint run build bench

test: fmt vet lint
	@for v in $(SERVICE_VARS); do \
		if [ -z "$$(printenv $$v)" ]; then echo "NOTE: $$v is not set: those service suites are SKIPPED (see README, 'Tests')"; fi; \
	done
	go test -race -count=1 -timeout 15m ./...
	@# Fault tests stop the shared RabbitMQ, MariaDB and Redis, so they run alone, after everything else.
	go test -race -count=1 -timeout 8m -tags faults -run Fault ./test/e2e/

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...
	go vet -tags faults ./test/e2e/

# One pass with the faults tag covers the untagged files and the fault tests alike.
lint:
	go run $(STATICCHECK) -tags faults ./...

build:
	go build -o minimart ./cmd/minimart

run:
	go run ./cmd/minimart
