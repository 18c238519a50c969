# make test: formatting, vet, staticcheck, the npm packages, the OpenAPI lint, and every test
# with the race detector. Service-backed suites (MariaDB, Redis, RabbitMQ) run when their
# MINIMART_TEST_* variables are set and are skipped, with a note, when they are not; the browser
# suite likewise without chromium. .ci/run sets them, installs chromium and sets
# MINIMART_REQUIRE_SERVICES=1. Node.js and npm are needed (the lint, the TypeScript client and
# the browser tests run on them).
SERVICE_VARS := MINIMART_TEST_MYSQL_URL MINIMART_TEST_REDIS_URL MINIMART_TEST_AMQP_URL
# staticcheck, pinned (v0.8.x is the release for Go 1.26); go run fetches it through the module proxy.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# npm ci in each folder with a lock file, when its node_modules is missing or older than
# package.json or package-lock.json: the stamp is written after a clean install (npm ci
# empties node_modules first). clients/ts joins once its lock file exists.
NPM_STAMPS := node_modules/.npm-ci-done $(if $(wildcard clients/ts/package-lock.json),clients/ts/node_modules/.npm-ci-done)

.PHONY: test fmt vet lint npm-deps api-lint run build bench

test: fmt vet lint npm-deps api-lint
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

npm-deps: $(NPM_STAMPS)

# In the folder of the rule's package.json.
define NPM_CI
@command -v npm >/dev/null || { echo "npm is not installed: make test needs Node.js and npm (see README, 'Tests')"; exit 1; }
cd $(<D) && npm ci --no-audit --no-fund && touch node_modules/.npm-ci-done
endef

node_modules/.npm-ci-done: package.json package-lock.json
	$(NPM_CI)

clients/ts/node_modules/.npm-ci-done: clients/ts/package.json clients/ts/package-lock.json
	$(NPM_CI)

# The recommended rules of Redocly CLI (redocly.yaml; exceptions with their reasons in
# .redocly.lint-ignore.yaml). The update notice would ask the npm registry on every run.
api-lint: node_modules/.npm-ci-done
	REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --no redocly lint api/openapi.yaml

build:
	go build -o minimart ./cmd/minimart

run:
	go run ./cmd/minimart
