# make test: formatting, vet and every test with the race detector. Service-backed suites
# (MariaDB, Redis, RabbitMQ) run when their MINIMART_TEST_* variables are set and are
# skipped, with a note, when they are not. .ci/run sets them and MINIMART_REQUIRE_SERVICES=1.
SERVICE_VARS := MINIMART_TEST_MYSQL_URL MINIMART_TEST_REDIS_URL MINIMART_TEST_AMQP_URL

.PHONY: test fmt vet run build bench

test: fmt vet
	@for v in $(SERVICE_VARS); do \
		if [ -z "$$(printenv $$v)" ]; then echo "NOTE: $$v is not set: those service suites are SKIPPED (see README, 'Tests')"; fi; \
	done
	go test -race -count=1 -timeout 15m ./...
	@# Fault tests stop the shared RabbitMQ, so they run alone, after everything else.
	go test -race -count=1 -timeout 5m -tags faults -run Fault ./test/e2e/

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...
	go vet -tags faults ./test/e2e/

build:
	go build -o minimart ./cmd/minimart

run:
	go run ./cmd/minimart
