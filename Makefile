# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

# gr-semcom: on a fresh Debian 12 machine each of these commands does everything it needs.
#   make demo   installs what is missing, builds, installs into .venv and runs the
#               loopback simulation (full waveform, AWGN) on the shipped MNIST sample
#   make demo-mixed  the same with MNIST and CIFAR-10 images in one stream (two models)
#   make test   installs what is missing, builds, installs into .venv and runs every test
#               (after make lint: ruff, and the license line of every source file)
#   make grc    the same set-up plus the GUI's packages, then GNU Radio Companion
#   make gui    the same set-up plus the GUI's packages, then the QT GUI loopback
# Each step is skipped the second time unless its inputs changed.

SHELL        := /bin/bash
ROOT         := $(abspath .)
VENV         := $(ROOT)/.venv
PY           := $(VENV)/bin/python
BUILD        := $(ROOT)/build
SYSTEM_PY    := /usr/bin/python3
APT_PACKAGES := gnuradio gnuradio-dev cmake g++ make python3-venv python3-dev pkg-config
# Only the GUI targets need these. Debian's gnuradio package depends on the GTK 3 library
# but not on its introspection data, without which GNU Radio Companion cannot start
# ("Namespace Gtk not available"). python3-gi-cairo (GRC's canvas) and python3-pyqt5 (QT GUI
# flowgraphs) come with gnuradio today; they are listed so that the GUI's needs stay in one place.
GUI_APT_PACKAGES := gir1.2-gtk-3.0 python3-gi-cairo python3-pyqt5
SUDO         := $(if $(filter 0,$(shell id -u)),,sudo)
JOBS         := $(shell nproc 2>/dev/null || echo 2)
DEMO_OUT     ?= demo-output
PYTEST_ARGS  ?=

export SEMCOM_DATA ?= $(abspath ../shared/datasets)
# LPIPS's ImageNet AlexNet backbone, where the shared folder holds it (users elsewhere set
# it themselves or use torch hub's cache; see docs/results.md, "LPIPS").
export SEMCOM_LPIPS_BACKBONE ?= $(wildcard $(abspath ../shared/lpips/alexnet-features.pth))
export GRC_BLOCKS_PATH := $(VENV)/share/gnuradio/grc/blocks$(if $(GRC_BLOCKS_PATH),:$(GRC_BLOCKS_PATH))

.PHONY: all demo demo-mixed test lint install system-deps gui-deps venv build ctest pytest grc gui clean distclean

all: install

DEMO_ARGS    ?= --snr-db 10 --freq-offset 0.002 --timing-offset 1.0001 --num-images 64

# The loopback simulation through the full waveform (examples/loopback_awgn.grc).
demo: install
	@mkdir -p $(BUILD)/examples
	grcc -o $(BUILD)/examples examples/loopback_awgn.grc > $(BUILD)/examples/grcc.log
	$(PY) $(BUILD)/examples/loopback_awgn.py --out-dir $(DEMO_OUT) $(DEMO_ARGS)
	@$(PY) -c "import json, sys; m = json.load(open('$(DEMO_OUT)/metrics.json'))['points'][-1]['live']; \
	    print('images sent %(images_sent)s, received %(images_received)s, lost %(images_lost)s; ' \
	          'recognition-rate ratio %(recognition_rate_ratio).4f, PSNR %(psnr_db).2f dB, SSIM %(ssim).3f' % m)"
	@echo "reconstructed images, contact sheet and metrics.json are in $(DEMO_OUT)/"

MIXED_OUT    ?= mixed-output
MIXED_ARGS   ?= --snr-db 10 --num-images 32

# Two sources in one link (examples/loopback_mixed.grc): MNIST and CIFAR-10 images in turn,
# each decoded by its own model; one output folder, contact sheet and metrics.json per source.
demo-mixed: install
	@mkdir -p $(BUILD)/examples
	grcc -o $(BUILD)/examples examples/loopback_mixed.grc > $(BUILD)/examples/grcc.log
	$(PY) $(BUILD)/examples/loopback_mixed.py --out-dir $(MIXED_OUT) $(MIXED_ARGS)
	@for s in mnist cifar10; do $(PY) -c "import json, sys; m = json.load(open('$(MIXED_OUT)/$$s/metrics.json'))['points'][-1]['live']; \
	    f = lambda v, p: 'n/a' if v is None else format(v, p); \
	    print('$$s: images sent %s, received %s, lost %s; recognition-rate ratio %s, PSNR %s dB, SSIM %s' % ( \
	          m['images_sent'], m['images_received'], m['images_lost'], f(m['recognition_rate_ratio'], '.4f'), \
	          f(m['psnr_db'], '.2f'), f(m['ssim'], '.3f')))"; done
	@echo "per source: reconstructed images, contact_sheet.png and metrics.json in $(MIXED_OUT)/mnist/ and $(MIXED_OUT)/cifar10/"

test: lint install
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(PY) -m pytest tests $(PYTEST_ARGS)

# ruff (ruff.toml; the version is pinned in requirements.txt) over the whole tree, and the
# SPDX license line of every source file.
lint: venv
	cd $(ROOT) && $(VENV)/bin/ruff check .
	$(PY) $(ROOT)/scripts/check-spdx $(ROOT)

# --- system packages (GNU Radio 3.10 and the build tools), only those missing ---
# $(call apt-install-missing,PACKAGES): a recipe line installing those of PACKAGES not installed.
apt-install-missing = @missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	    echo "installing system packages:" $$missing; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.system-deps: Makefile
	$(call apt-install-missing,$(APT_PACKAGES))
	@$(SYSTEM_PY) -c "from gnuradio import gr; v = gr.version(); assert v.startswith('3.10'), v; print('GNU Radio', v)"
	@mkdir -p $(VENV) && touch $@

system-deps: $(VENV)/.system-deps

# --- virtual environment that sees the system's GNU Radio bindings ---
$(VENV)/.requirements: requirements.txt requirements-nodeps.txt $(VENV)/.system-deps
	@[ -x $(PY) ] || $(SYSTEM_PY) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	@touch $@

venv: $(VENV)/.requirements

# --- CMake build, installed into the venv (blocks, core, assets, GRC YAML, semcom tool) ---
$(BUILD)/CMakeCache.txt: CMakeLists.txt $(VENV)/.requirements
	cmake -S $(ROOT) -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(VENV) \
	    -DPYTHON_EXECUTABLE=$(PY) -DCMAKE_BUILD_TYPE=Release

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

install: build
	@cmake --install $(BUILD) > $(BUILD)/install.log
	@$(ROOT)/scripts/venv-activate-hook $(VENV)

# --- GUI: GNU Radio Companion with this module's blocks, and the QT GUI loopback ---
$(VENV)/.gui-deps: Makefile $(VENV)/.system-deps
	$(call apt-install-missing,$(GUI_APT_PACKAGES))
	@touch $@

gui-deps: $(VENV)/.gui-deps

GRC_FILES    ?= examples/loopback_awgn.grc
GUI_ARGS     ?= --out-dir $(DEMO_OUT)

grc: install gui-deps
	$(VENV)/bin/gnuradio-companion-semcom $(GRC_FILES)

gui: install gui-deps
	@mkdir -p $(BUILD)/examples
	grcc -o $(BUILD)/examples examples/loopback_gui.grc > $(BUILD)/examples/grcc.log
	$(PY) $(BUILD)/examples/loopback_gui.py $(GUI_ARGS)

clean:
	rm -rf $(BUILD) $(DEMO_OUT)

distclean: clean
	rm -rf $(VENV)
