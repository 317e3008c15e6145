# netloom: `make run` brings up the default example lab; `make test` runs
# every test. Both install what they need on a Debian 12 machine (as root).

CARGO ?= $(shell command -v cargo 2>/dev/null || echo $(HOME)/.cargo/bin/cargo)
LAB ?= examples/ospf-triangle/lab.yml
NETLOOM = target/release/netloom

.PHONY: all deps deps-test web build run test lint fmt bench clean

all: build

deps:
	scripts/install-deps run

deps-test:
	scripts/install-deps test

# The web page (web/dist), embedded in the binary by netloom-daemon. When
# the page changed, web.rs is touched so that cargo embeds the new files.
web: deps
	cd web && npm ci --no-audit --no-fund && npm run build
	@new="$$(sha256sum web/dist/index.html)"; \
	if [ "$$new" != "$$(cat target/.web-dist-stamp 2>/dev/null)" ]; then \
	  touch crates/netloom-daemon/src/web.rs; mkdir -p target; echo "$$new" > target/.web-dist-stamp; fi

build: deps web
	$(CARGO) build --release -p netloom-cli

run: build
	$(NETLOOM) deploy -t $(LAB) --reconfigure --wait
	@echo
	@echo "Lab is up and its routing has converged. Try:"
	@echo "  $(NETLOOM) inspect"
	@echo "  $(NETLOOM) exec r1 -- vtysh -c 'show ip ospf neighbor'"
	@echo "  $(NETLOOM) exec h1 -- ping -c3 192.168.3.10"
	@echo "  $(NETLOOM) console r1"
	@echo "  $(NETLOOM) destroy -t $(LAB)"
	@echo
	@echo "The web page (this link logs you in once; \`$(NETLOOM) web\` prints a new one):"
	@$(NETLOOM) web

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: deps-test lint web
	$(CARGO) build -p netloom-cli
	scripts/leakcheck --stale nlt
	$(CARGO) test --workspace
	cd web && npm test
	web/tests/run-e2e
	scripts/leakcheck nlt

bench: build
	bench/deploy/run

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
