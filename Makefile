# Thin aliases over tools/ and docker/run; the logic lives in racnn/ and tools/.
# Targets that need Caffe go through docker/run, which enters the environment
# from outside it and runs the command directly inside it (docker run
# racnn-caffe make ...; ~7 ms there).
ENTER  := docker/run
RUN    := $(ENTER)
PY     := $(ENTER) python3

# Experiment settings (README: "Experiments"); empty = the tool's default.
# Each is a configuration key of racnn/rundir/settings.py: KNOB=key pairs,
# handed on as --set key=VALUE (VALUE read as JSON, else as text) to
# tools/experiment.py and to every run of a sweep; SET= takes raw KEY=VALUE
# pairs for any other key. SEEDS=1,2,3: the experiment (every run of the
# sweep) once per seed, one run folder each.
SETTINGS := RES=res MODE=mode MULTS=mults SR_WEIGHTS=sr_weights SR_IMAGES=sr_images \
            G_SR_INIT=g_sr_init STAGE2_LENGTH=stage2_length \
            SR_MAX_IMAGES=sr_max_images VARIANTS=variants JPEG=jpeg_quality \
            BACKBONE_WEIGHTS=backbone_weights NETS=nets DATA_ROOT=data_root FORMAT=data_format \
            KERNEL=kernel SEED=seed SPLIT_FROM=split_from TEST_FRACTION=test_fraction \
            TF32=tf32 CUDNN=cudnn
SET        ?=
SEEDS      ?=
GPU        ?=
SMOKE      ?=
RESTART    ?=
RUN_DIR    ?=
KEEP_STALE ?=
_knob  = $(firstword $(subst =, ,$(1)))
_key   = $(lastword $(subst =, ,$(1)))
SET_ARGS = $(foreach k,$(SETTINGS),$(if $($(call _knob,$(k))),--set $(call _key,$(k))=$($(call _knob,$(k))))) \
           $(foreach kv,$(SET),--set $(kv)) $(if $(SEEDS),--seeds $(SEEDS))
EXP_ARGS = $(SET_ARGS) $(if $(RESTART),--restart $(RESTART)) $(if $(RUN_DIR),--run-dir $(RUN_DIR)) \
           $(if $(filter 1 yes true,$(KEEP_STALE)),--keep-stale) \
           $(if $(GPU),--gpu $(GPU)) $(if $(filter 1 yes true,$(SMOKE)),--smoke)
# the report's reading of the settings the paper leaves open (tools/report.py)
REPORT_ARGS = $(if $(MULTS),--mults $(MULTS)) $(if $(SR_WEIGHTS),--sr-weights $(SR_WEIGHTS)) \
              $(if $(KERNEL),--kernel $(KERNEL)) $(if $(G_SR_INIT),--g-sr-init $(G_SR_INIT)) \
              $(if $(STAGE2_LENGTH),--stage2-length $(STAGE2_LENGTH))

# The names come from racnn/vocab.py, the one place they are defined: make asks
# the package (pure Python: the host's python3 does, no Caffe needed).
DATASETS  := $(shell python3 -m racnn.vocab make datasets)
BACKBONES := $(shell python3 -m racnn.vocab make backbones)
$(if $(and $(DATASETS),$(BACKBONES)),,$(error the Makefile asks racnn/vocab.py for the dataset and backbone names with `python3 -m racnn.vocab make datasets`, which failed: is python3 installed here?))
EXPERIMENTS := $(foreach d,$(DATASETS),$(foreach b,$(BACKBONES),$(d)-$(b)))

.PHONY: help test check-generated shell env image image-gpu gpu-env check-gpu-build gpu-check \
        gpu-bundle gpu-bundle-test gpu-bundle-verify prototxts draw demo report bench \
        bench-env bench-data bench-eval fig5 timing sweep sweep-status sweep-report sweep-cost \
        slurm-local slurm-local-stop slurm-timing $(EXPERIMENTS)

help:
	@echo "make test          run the test suite inside the Caffe environment"
	@echo "make demo          the whole pipeline on a synthetic dataset, CPU, ~13 min on 2 cores"
	@echo "make <dataset>-<backbone>   e.g. make cars-alexnet (RES= MODE= MULTS= SR_WEIGHTS= GPU= SMOKE=1"
	@echo "                   BACKBONE_WEIGHTS=none: no ImageNet weights; NETS=mynets/: your edited nets)"
	@echo "                   VARIANTS=cnn,staged,racnn_g,racnn_p: with Staged-Training (Fig. 4);"
	@echo "                   SR_IMAGES=DIR SR_MAX_IMAGES=all: stage 1's images (the paper: ILSVRC DET test);"
	@echo "                   JPEG=75: images through a JPEG round trip, as the release's .jpg files;"
	@echo "                   SEEDS=1,2,3: once per seed; G_SR_INIT=gaussian|pretrained STAGE2_LENGTH=solver|notebooks"
	@echo "                   datasets: $(DATASETS); backbones: $(BACKBONES)"
	@echo "make report        every run beside the paper (Tables I-III, Fig. 4, Fig. 5) in runs/report"
	@echo "make sweep SWEEP=table2|table3|fig4|all|demo   the grid's runs, one after another here, or"
	@echo "                   SCHEDULER=slurm PARTITION= GRES=gpu:1 TIME= CPUS= MEM= ACCOUNT= SBATCH_ARGS="
	@echo "                   BACKEND=auto|docker|rootfs|apptainer|none SIF=racnn.sif DRY_RUN=1; runs/sweeps/<name>"
	@echo "                   JOBS=stage|run: one Slurm job per stage (default) or one array task per run"
	@echo "make sweep-cost SWEEP=...   jobs, GPU-hours, critical path, --time (TIMING=runs/timing/timing.json)"
	@echo "make sweep-status SWEEP=...   each job's state;  make sweep-report SWEEP=...   its tables"
	@echo "make slurm-local   a Slurm cluster on this machine to try sweeps on (NODES=2: two nodes; slurm-local-stop)"
	@echo "make slurm-timing  the demo grid on two Slurm nodes, one task per run against one job per stage"
	@echo "make fig5 RUN=runs/...   Fig. 5 (test accuracy against iteration) of runs, in runs/fig5"
	@echo "make timing        Table I: caffe time per backbone with/without SR on this machine, runs/timing"
	@echo "make prototxts     regenerate prototxt/ and solvers/"
	@echo "make check-generated  list files of prototxt/ and solvers/ that differ from the generators"
	@echo "make draw          picture of the RACNN-AlexNet graph"
	@echo "make shell         a shell inside the environment"
	@echo "make image         docker build the CPU image (make image-gpu: the CUDA one)"
	@echo "make check-gpu-build  build the GPU Caffe environment (once, 45-80 min) and check it without a GPU"
	@echo "make gpu-check     on a GPU machine with the GPU environment: docker/gpu/check-gpu.sh (GPU=0)"
	@echo "make gpu-bundle    build/racnn-gpu-bundle.tar.xz: GPU Caffe + the one check for a bare GPU machine"
	@echo "make gpu-bundle-test  the bundle's CPU path in a bare chroot with CUDA libraries from wheels"
	@echo "make gpu-bundle-verify DIR=...  evaluate a GPU run-check's SMOKE snapshots against a CPU run"
	@echo "make bench         all benchmarks (bench-env, bench-data, bench-eval)"

# The suite runs in the rootfs by default, also where a Docker engine answers
# (docker/run alone would pick Docker): as root with unshare, RACNN_BACKEND=rootfs
# unless set. The image is checked by tests/docker/test_image.py.
TEST_BACKEND = $(if $(RACNN_BACKEND),,$(if $(and $(filter 0,$(shell id -u)),$(shell command -v unshare)),rootfs))

# In CI (CI=true) the suite also checks that prototxt/ and solvers/ match the
# generators; a user's `make test` does not fail because they edited a net.
test: $(if $(filter true 1,$(CI)),check-generated)
	$(if $(TEST_BACKEND),RACNN_BACKEND=$(TEST_BACKEND) )$(PY) -m pytest tests $(PYTEST_ARGS)

check-generated:
	$(if $(TEST_BACKEND),RACNN_BACKEND=$(TEST_BACKEND) )$(PY) tools/make_nets.py --check

shell:
	$(RUN) bash

env:
	$(RUN) true

image:
	docker build -t racnn-caffe -f docker/Dockerfile .

# The host's CA bundle goes into the build (pip fetches the CUDA wheels over
# TLS, which a proxy may re-sign); docker/.build/ is not committed.
image-gpu:
	mkdir -p docker/.build && { cp /etc/ssl/certs/ca-certificates.crt docker/.build/host-ca-certificates.crt 2>/dev/null || true; }
	docker build -t racnn-caffe-gpu $(DOCKER_BUILD_ARGS) -f docker/Dockerfile.gpu .

# GPU Caffe (docs/GPU.md). Too slow for every CI run: the first build compiles
# Caffe with CUDA 13 for 5 architectures (45-80 min on 2 cores).
GPU_ENV = $(if $(TEST_BACKEND),RACNN_BACKEND=$(TEST_BACKEND) )RACNN_ENV=gpu $(RUN)

gpu-env:
	$(GPU_ENV) cat /opt/caffe-cuda/BUILD-INFO

check-gpu-build:
	$(GPU_ENV) bash docker/gpu/check-build.sh

gpu-check:
	bash docker/gpu/check-gpu.sh $(if $(GPU),--gpu $(GPU))

# The GPU bundle (docs/GPU.md "The GPU bundle"): a self-contained folder and
# build/racnn-gpu-bundle.tar.xz for a bare GPU machine (driver + NVIDIA's
# wheels). Needs root (the gpu-build and CPU rootfs environments); the first
# build compiles Caffe with cuDNN for 5 architectures (30-80 min on 2 cores).
gpu-bundle:
	bash docker/gpu/bundle/make-bundle.sh

# The bundle's CPU path in a bare bookworm chroot whose CUDA libraries come
# only from NVIDIA's wheels (made on the host by test-bare.sh, then the test).
gpu-bundle-test:
	bash docker/gpu/bundle/test-bare.sh
	$(if $(TEST_BACKEND),RACNN_BACKEND=$(TEST_BACKEND) )RACNN_GPU_BUNDLE_TEST=1 $(PY) -m pytest tests/docker/test_gpu_bundle.py $(PYTEST_ARGS)

# make gpu-bundle-verify DIR=<run-check --out folder or its results.tar.gz*> [CPU_DIR=...]
gpu-bundle-verify:
	bash docker/gpu/bundle/verify.sh $(DIR) $(CPU_DIR)

prototxts:
	$(PY) tools/make_nets.py

draw:
	$(PY) tools/draw_net.py --rankdir TB --fold-inplace prototxt/alexnet/cars/racnn_deploy.prototxt docs/racnn_alexnet.png

demo:
	$(PY) tools/demo.py $(if $(filter 1 yes true,$(SMOKE)),--smoke)

$(EXPERIMENTS):
	$(PY) tools/experiment.py $(firstword $(subst -, ,$@)) $(lastword $(subst -, ,$@)) $(EXP_ARGS)

report:
	$(PY) tools/report.py runs --out runs/report $(REPORT_ARGS)

# Sweeps (README: "On a cluster"). tools/sweep.py runs with the host's python3,
# beside sbatch; what needs Caffe enters the environment through BACKEND= (default
# docker/run; ENTRY= is its old name), in each task too.
SWEEP       ?= demo
SCHEDULER   ?= local
PARTITION   ?=
GRES        ?=
TIME        ?=
CPUS        ?=
MEM         ?=
ACCOUNT     ?=
SBATCH_ARGS ?=
BACKEND     ?= $(ENTRY)
ENTRY       ?=
SIF         ?=
DRY_RUN     ?=
RUNS_DIR    ?=
SWEEP_PY    ?= python3
JOBS        ?=
TIMING      ?=
SPEEDUP     ?=
COST_ARGS   = $(if $(TIMING),--timing $(TIMING)) $(if $(SPEEDUP),--speedup $(SPEEDUP))
SWEEP_ARGS = --scheduler $(SCHEDULER) $(if $(PARTITION),--partition $(PARTITION)) \
             $(if $(GRES),--gres $(GRES)) $(if $(TIME),--time $(TIME)) \
             $(if $(CPUS),--cpus-per-task $(CPUS)) $(if $(MEM),--mem $(MEM)) \
             $(if $(ACCOUNT),--account $(ACCOUNT)) $(foreach a,$(SBATCH_ARGS),--sbatch-arg=$(a)) \
             $(if $(BACKEND),--backend $(BACKEND)) $(if $(SIF),--sif $(SIF)) $(if $(GPU),--gpu $(GPU)) \
             $(if $(filter 1 yes true,$(SMOKE)),--smoke) $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run) \
             $(if $(RUNS_DIR),--runs-dir $(RUNS_DIR)) $(if $(JOBS),--jobs $(JOBS)) $(COST_ARGS) \
             $(SET_ARGS)

sweep:
	$(SWEEP_PY) tools/sweep.py run $(SWEEP) $(SWEEP_ARGS)

sweep-status:
	$(SWEEP_PY) tools/sweep.py status $(SWEEP)

# the cost before submission: every job's iterations, GPU-hours and --time, the critical path
sweep-cost:
	$(SWEEP_PY) tools/sweep.py plan $(SWEEP) --cost $(COST_ARGS) $(if $(RUNS_DIR),--runs-dir $(RUNS_DIR)) $(SET_ARGS)

sweep-report:
	$(SWEEP_PY) tools/sweep.py report $(SWEEP) $(if $(BACKEND),--backend $(BACKEND)) $(if $(SIF),--sif $(SIF))

# A Slurm cluster on this machine to try sweeps on (tools/slurm_local.py, the tests'
# code): one node, or NODES=2 nodes in network namespaces of their own; runs/slurm-local
NODES ?=
slurm-local:
	$(RUN) python3 tools/slurm_local.py start $(if $(NODES),--nodes $(NODES))

slurm-local-stop:
	$(RUN) python3 tools/slurm_local.py stop

# The demo grid on a two-node Slurm cluster here, one array task per run against one job
# per stage, each from scratch: the wall times printed (not asserted; minutes on 2 cores)
slurm-timing:
	$(if $(TEST_BACKEND),RACNN_BACKEND=$(TEST_BACKEND) )RACNN_SLURM_TIMING=1 $(PY) -m pytest tests/workflows/test_sweep_on_two_node_slurm.py -s -k wall_time $(PYTEST_ARGS)

# Fig. 5 of one run folder or of every run under a folder: make fig5 RUN=runs/...
# (default: runs; RUN from the command line, as docker/run is $(ENTER) here)
fig5:
	$(PY) tools/fig5.py $(if $(filter command line,$(origin RUN)),$(RUN),runs) --out runs/fig5

# Table I: caffe time (CPU here; GPU=0 on a GPU machine) + the runs' training logs
timing:
	$(PY) tools/time_nets.py --runs runs --out runs/timing $(if $(GPU),--gpu $(GPU))

bench: bench-env bench-data bench-eval

bench-env:
	bash bench/bench_env.sh

bench-data:
	$(PY) bench/bench_build_lmdb.py

bench-eval:
	$(PY) bench/bench_eval.py
