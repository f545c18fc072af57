# fabriclab: `sudo make demo` and `sudo make test` work on a fresh Debian/Ubuntu machine.
SHELL := /bin/bash
PY ?= /usr/bin/python3
VENV := .venv
VPY := $(VENV)/bin/python
APT_PACKAGES := mininet iproute2 iputils-ping cpp python3-venv python3-dev tcpdump tshark ethtool procps psmisc chromium netsniff-ng
STAMP := $(VENV)/.setup-stamp
PYTEST_ARGS ?=
# The live view's graph library (`fabriclab view`): cytoscape from npm, pinned by version and
# tarball hash, unpacked into the package (fabriclab/view/static/vendor/, not in git): the page
# loads nothing from the network at run time.
CYTOSCAPE := 3.35.0
CYTOSCAPE_SHA256 := 058a81a7534777ea68dc737e9b77bd5b701e00acd9bee246245a576eeeac32e6
VIEW_JS := fabriclab/view/static/vendor/cytoscape.min.js

.PHONY: setup system-packages venv test test-stress demo clean-net clean help

help:
	@echo "make demo   - install everything, run the headline experiment, write its figure"
	@echo "make test   - install everything, run the whole test suite"
	@echo "make test-stress - the root tests (STRESS_TESTS) while a CPU hog busies every core"
	@echo "make setup  - install system packages and the .venv only"
	@echo "make clean-net - remove namespaces, links and processes left by a crashed run"

setup: system-packages $(STAMP) $(VIEW_JS)

# System packages: only touch apt when something is missing (fast and offline-safe on re-runs).
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "error: missing system packages:$$missing (run as root: sudo make setup)"; exit 1; fi; \
	  echo ">> apt-get install$$missing"; \
	  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	@test -x $(VPY) || $(PY) -m venv --system-site-packages $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

# the graph library of `fabriclab view` (see CYTOSCAPE above)
$(VIEW_JS):
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm; } \
	  || { echo "error: npm is missing (run as root: sudo make setup)"; exit 1; }
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; set -e; \
	(cd "$$tmp" && npm pack --silent cytoscape@$(CYTOSCAPE) >/dev/null); \
	echo "$(CYTOSCAPE_SHA256)  $$tmp/cytoscape-$(CYTOSCAPE).tgz" | sha256sum -c --quiet; \
	tar xzf "$$tmp/cytoscape-$(CYTOSCAPE).tgz" -C "$$tmp" package/dist/cytoscape.min.js package/LICENSE; \
	mkdir -p $(@D); cp "$$tmp/package/LICENSE" $(@D)/cytoscape.LICENSE; \
	cp "$$tmp/package/dist/cytoscape.min.js" $@; echo ">> cytoscape $(CYTOSCAPE) -> $@"

# Unit tests without root run on every core at once (pytest-xdist), then the rest one at a
# time (root, Mininet, real-time margins); both parts always run, exit 5 is "none selected".
test: setup
	@$(VPY) -m pytest tests --part parallel -n auto $(PYTEST_ARGS); a=$$?; \
	$(VPY) -m pytest tests --part serial $(PYTEST_ARGS); b=$$?; \
	for rc in $$a $$b; do [ $$rc -eq 0 ] || [ $$rc -eq 5 ] || exit $$rc; done

# Real-time tests must hold on a busy laptop: run them with one busy loop per core. The hogs
# die with this recipe's shell on every exit path (pass, fail, Ctrl-C, kill: PR_SET_PDEATHSIG).
STRESS_TESTS ?= tests/integration tests/e2e
HOG := import ctypes, signal; ctypes.CDLL(None).prctl(1, signal.SIGKILL); exec("while 1: pass")
test-stress: setup
	@hogs=""; trap 'kill $$hogs 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	for _ in $$(seq $$(nproc)); do $(PY) -c '$(HOG)' & hogs="$$hogs $$!"; done; \
	echo ">> CPU hog on $$(nproc) cores (pids$$hogs)"; \
	$(VPY) -m pytest $(STRESS_TESTS) $(PYTEST_ARGS)

demo: setup
	$(VENV)/bin/fabriclab demo

clean-net: setup
	$(VENV)/bin/fabriclab clean

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache results/.cache
