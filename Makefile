# AccelGen: Swift hardware generator for DNN accelerators.
# `make sim` runs the main demonstration, `make test` the whole suite. Both install what they need.

SWIFT      ?= swift
BUILD      := .build/debug
RELEASE    := .build/release
GEN        := $(BUILD)/generate-rtl
APT_PKGS   := verilator yosys iverilog gnuplot-nox ccache z3
# The Slurm test (Tests/SweepTests/SlurmTests.swift) starts a single-node cluster from these.
SLURM_PKGS := slurmctld slurmd slurm-client munge
# Fashion-MNIST for the network targets (Sources/Networks, `make models`), and the zlib headers
# they read its gzip files with (Sources/CZlib).
DATA_PKGS  := dataset-fashion-mnist zlib1g-dev
DATA_FILE  := /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
# onnx's single-operator test cases, the float ONNX interpreter's reference (Tests/ONNXTests).
ONNX_PKGS  := libonnx-testdata
ONNX_FILE  := /usr/share/libonnx-testdata/data/node/test_conv_with_autopad_same/model.onnx
SWEEP_OUT  ?= sweep-results
SWEEP_FLAGS ?=
FUZZ_CIRCUITS ?= 100000
FUZZ_FLAGS ?=
# Python tools the tests use (reference tools from PyPI), in a project-local virtual environment.
VENV       := .venv
PY_REQS    := scripts/requirements.txt

NETWORKS_OUT ?= sweep-networks
NETWORKS_FLAGS ?= --workload lenet5 --format fixed16,fixed8,fixed6,fixed4,binary,bwn,ternary,pow2,codebook4 --rounding nearest,stochastic --rows 16
FIGURE_OUT ?= results/figure
FIGURE_FLAGS ?=
FORMATS_OUT ?= sweep-formats
FORMATS_FLAGS ?= --format fixed8,fixed4,binary,bwn,ternary,pow2,codebook4 --rows 8,16

.PHONY: all deps build release rtl check-rtl sim cocotb sweep formats networks figure timing formal test test-fast lint bench fuzz models clean

all: build

## deps: install Verilator, yosys, Icarus Verilog and gnuplot, Slurm (slurmctld, slurmd, slurm-client, munge)
##       and Fashion-MNIST (dataset-fashion-mnist, zlib1g-dev) and onnx's operator tests (libonnx-testdata)
##       from the distribution's packages when missing
##       and the Python tools of scripts/requirements.txt into the project-local .venv (pip)
deps:
	@missing=""; for t in verilator yosys iverilog gnuplot z3; do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing (apt-get)"; \
	  if ! command -v apt-get >/dev/null 2>&1; then echo "make deps: no apt-get here; install$$missing with your package manager" >&2; exit 1; fi; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PKGS) >/dev/null \
	    || { echo "make deps: apt-get could not install $(APT_PKGS)" >&2; exit 1; }; \
	fi; \
	missing=""; for t in slurmctld slurmd sbatch munged; do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $(SLURM_PKGS) (apt-get, for the Slurm test; missing:$$missing)"; \
	  if ! command -v apt-get >/dev/null 2>&1; then echo "make deps: no apt-get here; install $(SLURM_PKGS) with your package manager" >&2; exit 1; fi; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(SLURM_PKGS) >/dev/null \
	    || { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(SLURM_PKGS) >/dev/null; } \
	    || { echo "make deps: apt-get could not install $(SLURM_PKGS)" >&2; exit 1; }; \
	fi; \
	if [ ! -f $(DATA_FILE) ] || [ ! -f /usr/include/zlib.h ]; then \
	  echo "make deps: installing $(DATA_PKGS) (apt-get, Fashion-MNIST and zlib for the networks)"; \
	  if ! command -v apt-get >/dev/null 2>&1; then echo "make deps: no apt-get here; install $(DATA_PKGS) with your package manager" >&2; exit 1; fi; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(DATA_PKGS) >/dev/null \
	    || { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(DATA_PKGS) >/dev/null; } \
	    || { echo "make deps: apt-get could not install $(DATA_PKGS)" >&2; exit 1; }; \
	fi; \
	if [ ! -f $(ONNX_FILE) ]; then \
	  echo "make deps: installing $(ONNX_PKGS) (apt-get, onnx's operator test cases for the ONNX tests)"; \
	  if ! command -v apt-get >/dev/null 2>&1; then echo "make deps: no apt-get here; install $(ONNX_PKGS) with your package manager" >&2; exit 1; fi; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(ONNX_PKGS) >/dev/null \
	    || { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(ONNX_PKGS) >/dev/null; } \
	    || { echo "make deps: apt-get could not install $(ONNX_PKGS)" >&2; exit 1; }; \
	fi; \
	command -v swift >/dev/null 2>&1 || { echo "make deps: Swift 6 is required (https://swift.org/install)" >&2; exit 1; }; \
	if [ ! -x $(VENV)/bin/python ] || [ $(PY_REQS) -nt $(VENV)/.installed ]; then \
	  echo "make deps: installing $(PY_REQS) into $(VENV) (pip)"; \
	  { [ -x $(VENV)/bin/python ] || python3 -m venv $(VENV); } \
	    && $(VENV)/bin/pip install -q --disable-pip-version-check -r $(PY_REQS) \
	    && touch $(VENV)/.installed \
	    || { echo "make deps: pip could not install $(PY_REQS) into $(VENV)" >&2; exit 1; }; \
	fi; \
	echo "deps: $$(verilator --version | head -1); $$(yosys -V); $$(iverilog -V 2>&1 | head -1); $$(slurmctld -V)"

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

## rtl: regenerate Generated/ for the documented default configurations
RTL_DEFAULTS := systolic mac lfsr rounder pool accelerator
define emit-defaults
	@rm -rf $(1) && mkdir -p $(1)
	@for core in $(RTL_DEFAULTS); do $(GEN) $$core --out $(1)/$$core >/dev/null || exit 1; done
endef

rtl: build
	$(call emit-defaults,Generated.tmp)
	@rm -rf Generated && mv Generated.tmp Generated && echo "Generated/ regenerated"

## check-rtl: fail when Generated/ differs from what the generators emit now
check-rtl: build
	$(call emit-defaults,.build/rtl-check)
	@diff -r Generated .build/rtl-check >/dev/null || { echo "Generated/ is stale: run 'make rtl' and commit it" >&2; diff -r Generated .build/rtl-check | head -20 >&2; exit 1; }
	@echo "Generated/ is up to date"

## lint: verilator --lint-only -Wall and yosys synth over Generated/
lint: deps
	@for d in Generated/*/; do \
	  top=$$(sed -n 's/.*"top" : "\(.*\)".*/\1/p' $$d/manifest.json); \
	  (cd $$d && verilator --lint-only -Wall --top-module $$top *.v) || exit 1; \
	  (cd $$d && yosys -q -p "read_verilog *.v; synth -top $$top" >/dev/null) || exit 1; \
	  echo "lint+synth ok: $$d ($$top)"; \
	done

## sim: the default 8x8 systolic array (stochastic rounding) on several GEMMs, the default
##      MAC, LFSR and rounding units, then small convolution layers on 4x4 PE arrays in each
##      dataflow (WS, OS, RS), then LeNet-5 (shipped weights, 8-bit) on 32 Fashion-MNIST test
##      images, every layer co-simulated, all checked against the golden models
sim: deps build
	$(BUILD)/simulate gemm
	@echo
	$(BUILD)/simulate cores
	@for df in ws os rs; do echo; $(BUILD)/simulate conv --layer small --dataflow $$df || exit 1; done
	@echo
	$(BUILD)/simulate network --model lenet5 --format fixed8 --images 32 --golden-images 2000
	@echo
	$(BUILD)/simulate accelerator --model mlp --format fixed8 --images 1

## cocotb: the outside-style testbench (Testbench/cocotb): a 4x4 accelerator and a GEMM program with
##         its DRAM image and golden C from generate-rtl, run in Icarus Verilog by cocotb with
##         cocotbext-axi (AXI4-Lite registers, AXI4 RAM with random pauses); every value of C checked,
##         and a bad opcode. Design and build in $(COCOTB_OUT).
COCOTB_OUT ?= .build/cocotb
COCOTB_DESIGN ?= --rows 4 --cols 4 --scratchpad-kib 1 --output-kib 1 --example-gemm 10x24x9
cocotb: deps build
	$(GEN) accelerator $(COCOTB_DESIGN) --out $(COCOTB_OUT)/design
	$(VENV)/bin/python Testbench/cocotb/run.py $(COCOTB_OUT)/design --build $(COCOTB_OUT)/sim

## sweep: the default design-space sweep (docs/SWEEP.md): tables, plots and report in
##        $(SWEEP_OUT); finished points are kept, so a rerun resumes. SWEEP_FLAGS adds flags.
sweep: deps build
	$(BUILD)/sweep --out $(SWEEP_OUT) $(SWEEP_FLAGS)

## formats: the table of docs/FORMATS.md ("Area and energy per format"): fixed8, fixed4, binary,
##          bwn, ternary, pow2 and codebook4 on 8x8 and 16x16 systolic arrays, synthesized; the
##          Markdown table is $(FORMATS_OUT)/formats.md, printed at the end
formats: deps build
	@$(BUILD)/sweep --out $(FORMATS_OUT) $(FORMATS_FLAGS); status=$$?; \
	  cat $(FORMATS_OUT)/formats.md 2>/dev/null; exit $$status

## networks: the quantization table of docs/NETWORKS.md ("Quantization table"): LeNet-5 from the
##           shipped weights in fixed16/8/6/4, binary (BNN), bwn, ternary, pow2 and codebook4 with
##           nearest and stochastic rounding on 16x16 arrays (release build; the first run fine-tunes
##           the schemes that need it, then they are cached); accuracy on all 10,000 test images,
##           32 co-simulated, area and energy per image. The table is $(NETWORKS_OUT)/networks.md
##           (and .json), printed at the end; finished points are kept, so a rerun resumes.
networks: deps release
	@$(RELEASE)/sweep --out $(NETWORKS_OUT) $(NETWORKS_FLAGS); status=$$?; \
	  cat $(NETWORKS_OUT)/networks.md 2>/dev/null; exit $$status

## figure: the training figure of docs/TRAINING.md (Gupta et al. 2015, Figure 2): every configuration
##         of Sources/Networks/TrainingFigure.swift trained in the array's arithmetic (release build),
##         two at a time, in $(FIGURE_OUT)/<name>/, then figure.csv, figure.json and the plots
##         figure-<model>.svg there; finished epochs are kept, so a rerun resumes. FIGURE_FLAGS adds
##         flags (--jobs, --models, --epochs, --no-cosim).
figure: deps
	$(SWIFT) build -c release --product train
	$(RELEASE)/train --figure --out $(FIGURE_OUT) $(FIGURE_FLAGS)

## timing: the table of docs/TIMING.md: the default systolic array, MAC, rounding unit, pooling
##         core and accelerator, and the array and rounding unit with the pipelining options, placed and routed on an LFE5U-85F (speed 6, out of context) with yosys synth_ecp5 and
##         nextpnr-ecp5, three placement seeds each; results in $(TIMING_OUT), cached by content
##         (ACCELGEN_PNR_CACHE), so a rerun only prints
TIMING_OUT  ?= .build/timing
TIMING_CORES := systolic mac rounder pool accelerator
# The pipelining options of docs/TIMING.md ("Pipelining"): a folder name, then the core and its flags.
TIMING_VARIANTS := "systolic-pp1-rp1 systolic --pe-pipeline 1 --round-pipeline 1" \
                   "systolic-pp2-rp1 systolic --pe-pipeline 2 --round-pipeline 1" \
                   "rounder-rp1 rounder --round-pipeline 1"
TIMING_VARIANT_NAMES := systolic-pp1-rp1 systolic-pp2-rp1 rounder-rp1
timing: deps build
	@for core in $(TIMING_CORES); do \
	  echo "place and route: $$core" >&2; \
	  $(GEN) $$core --out $(TIMING_OUT)/$$core --pnr ecp5 >/dev/null || exit 1; \
	done
	@for v in $(TIMING_VARIANTS); do \
	  set -- $$v; name=$$1; shift; \
	  echo "place and route: $$name" >&2; \
	  $(GEN) "$$@" --out $(TIMING_OUT)/$$name --pnr ecp5 >/dev/null || exit 1; \
	done
	@python3 scripts/timing-table.py $(addprefix $(TIMING_OUT)/,$(TIMING_CORES) $(TIMING_VARIANT_NAMES))

## test: the whole suite (installs Verilator and yosys first when missing)
test: deps build check-rtl
	$(SWIFT) test

## test-fast: the fast lane: every test without a tag of Sources/TestTags (no Verilator, Icarus, yosys, Python,
##            Slurm, dataset or training), about a minute on a warm build
test-fast: build
	$(SWIFT) build --build-tests
	eval $(SWIFT) test --skip-build $$(scripts/fast-lane-skips.sh)

## formal: the formal proofs (yosys-smtbmc, z3) at larger parameters than the suite's: the FIFO
##         (no loss, duplication or reordering; stable while stalled), the ROUND unit (in range,
##         saturates exactly by the rule) by k-induction, the PE against a reference multiply-accumulate,
##         the systolic array's C stream stable while stalled
formal: deps build
	$(BUILD)/simulate formal

## bench: performance figures (release build)
bench: deps release
	$(RELEASE)/simulate bench

## fuzz: $(FUZZ_CIRCUITS) random circuits, each checked cycle by cycle in the in-process simulator
##       against Verilator and Icarus Verilog; prints the count and the smallest failing circuit
fuzz: deps build
	$(BUILD)/fuzz --circuits $(FUZZ_CIRCUITS) $(FUZZ_FLAGS)

## models: retrain the shipped float weights Models/lenet5.weights and Models/mlp.weights from
##         their fixed seed (release build, a few minutes each); the same bytes every time
models: deps
	$(SWIFT) build -c release --product train
	@for m in lenet5 mlp; do $(RELEASE)/train --model $$m --out Models || exit 1; done

clean:
	rm -rf .build .build-* Generated.tmp sweep-results
