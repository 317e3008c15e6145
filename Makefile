# netloom: `make run` brings up the default example lab; `make test` runs
# every test. Both install what they need on a Debian 12 machine (as root).

CARGO ?= $(shell command -v cargo 2>/dev/null || echo $(HOME)/.cargo/bin/cargo)
LAB ?= examples/ospf-triangle/lab.yml
NETLOOM = target/release/netloom

.PHONY: all deps deps-test build run test lint fmt bench clean

all: build

deps:
	scripts/install-deps run

deps-test:
	scripts/install-deps test

build: deps
	$(CARGO) build --release -p netloom-cli

run: build
	$(NETLOOM) deploy -t $(LAB) --reconfigure
	@echo
	@echo "Lab is up. Try:"
	@echo "  $(NETLOOM) inspect"
	@echo "  $(NETLOOM) exec r1 -- vtysh -c 'show ip ospf neighbor'"
	@echo "  $(NETLOOM) exec h1 -- ping -c3 192.168.3.10"
	@echo "  $(NETLOOM) console r1"
	@echo "  $(NETLOOM) destroy -t $(LAB)"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: deps-test lint
	$(CARGO) test --workspace
	scripts/leakcheck nlt

bench: build
	bench/deploy/run

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
