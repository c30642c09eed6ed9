"""The GPU bundle (make gpu-bundle, docs/GPU.md "The GPU bundle"): its size and
shape, and its CPU path end to end in a bare environment whose CUDA
libraries come only from NVIDIA's wheels -- what shows that on a GPU machine
only the driver is missing.

The bare environment is build/gpu-bundle-test/root, made on the host by
docker/gpu/bundle/test-bare.sh (`make gpu-bundle-test` makes it and runs this
file): a debootstrap'ed Debian bookworm (glibc 2.36, not the Caffe
environment's bullseye), without Caffe's libraries and without Python, with
the CUDA wheels of docker/gpu/cuda-wheels.txt unpacked where pip puts them.
The bundle is unpacked into it and run there through chroot.

The two end-to-end runs need RACNN_GPU_BUNDLE_TEST=1 (make gpu-bundle-test sets
it). Skips with one line when build/racnn-gpu-bundle.tar.xz is absent (it needs
the GPU build: 30-80 min on 2 cores, not for every CI run) or the bare
environment has not been made.  GPU timings and numerics are the bundle's
run-check's business on a GPU, not asserted here.
"""
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from racnn.paths import REPO

ARCHIVE = os.path.join(REPO, "build", "racnn-gpu-bundle.tar.xz")
BARE = os.path.join(REPO, "build", "gpu-bundle-test", "root")
SITE = "/usr/local/lib/python3.11/dist-packages"
LIMIT = 40 * 2 ** 20
# What the bundle may take from the machine; everything else it carries
# (the CUDA libraries come from the wheels, the driver from the machine).
SYSTEM = ("linux-vdso", "ld-linux", "libc.so", "libm.so", "libdl.so", "libpthread.so",
          "librt.so", "libresolv.so", "libutil.so", "libstdc++.so", "libgcc_s.so")

# The two end-to-end runs take 1 and 5 minutes on 2 cores: `make gpu-bundle-test`
# (RACNN_GPU_BUNDLE_TEST=1) runs them, a plain `make test` skips them.
slow = pytest.mark.skipif(os.environ.get("RACNN_GPU_BUNDLE_TEST") != "1",
                          reason="1-5 minutes each: make gpu-bundle-test runs them")

pytestmark = pytest.mark.skipif(
    not os.path.isfile(ARCHIVE),
    reason="build/racnn-gpu-bundle.tar.xz is absent: make gpu-bundle (needs the GPU build)")


def test_bundle_is_under_its_size_limit_with_one_top_folder():
    assert os.path.getsize(ARCHIVE) <= LIMIT, "%.1f MiB" % (os.path.getsize(ARCHIVE) / 2 ** 20)
    with tarfile.open(ARCHIVE) as tar:
        names = tar.getnames()
    assert {n.split("/")[0] for n in names} == {"racnn-gpu-bundle"}
    for f in ("run-check", "bin/caffe", "bin/racnn-env.sh", "libexec/caffe.bin",
              "libexec/caffe-gpu-check", "libexec/racnn-numerics", "lib/libcaffe.so.1.0.0",
              "BUILD-INFO", "MANIFEST.sha256", "share/table1/nets.tsv",
              "share/numerics/nets.tsv", "share/smoke/plan.tsv"):
        assert "racnn-gpu-bundle/" + f in names, f
    dbs = {n.split("/")[4] for n in names if n.startswith("racnn-gpu-bundle/share/smoke/data/")
           and n.endswith("/data.mdb")}
    assert any(d.startswith("r") and "_p" in d for d in dbs), dbs    # the stage-1 patch database
    assert len(dbs) >= 3, dbs


def _bare_ready():
    return os.path.isfile(os.path.join(BARE, ".racnn-bare-ready"))


@pytest.fixture(scope="module")
def bundle():
    """The archive unpacked into the bare root: its path inside the root."""
    if not _bare_ready():
        pytest.skip("the bare environment build/gpu-bundle-test/root is not made: "
                    "make gpu-bundle-test (on the host, as root)")
    top = tempfile.mkdtemp(prefix="racnn-bundle-test-", dir=os.path.join(BARE, "opt"))
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(top)
    yield os.path.join("/opt", os.path.basename(top), "racnn-gpu-bundle")
    shutil.rmtree(top, ignore_errors=True)


def chroot(cmd, env=None, timeout=900):
    """CMD (a shell command line) inside the bare root, with /proc and /dev,
    in a mount namespace of its own; a clean environment."""
    envs = ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/root", "LANG=C.UTF-8"]
    envs += ["%s=%s" % kv for kv in sorted((env or {}).items())]
    script = ('mount --make-rprivate / 2>/dev/null; mount -t proc proc "$0/proc" && '
              'mount --rbind /dev "$0/dev" && exec chroot "$0" /usr/bin/env -i "$@"')
    return subprocess.run(["unshare", "--mount", "--propagation", "unchanged", "sh", "-c", script,
                           BARE] + envs + ["/bin/sh", "-c", cmd],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=timeout)


def test_the_bare_root_has_neither_caffe_libraries_nor_python(bundle):
    res = chroot("ls /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu")
    assert res.returncode == 0, res.stdout
    for lib in ("libglog", "libprotobuf", "libboost", "libopenblas", "libblas", "libhdf5",
                "liblmdb", "libgflags", "libcudart", "libcaffe"):
        assert lib not in res.stdout, lib
    res = chroot("command -v python3 python || echo no python")
    assert res.stdout.strip() == "no python", res.stdout


def test_every_bundled_program_and_library_resolves_from_the_bundle_and_the_wheels(bundle):
    """ldd of every ELF in the bundle, with only the bundle, the wheels and the
    base system: nothing unresolved, and nothing from the base system but
    glibc and the compiler's runtime (a Caffe library left out of the bundle
    would be 'not found' here: the bare root has none)."""
    res = chroot('LD_LIBRARY_PATH="%s/lib:$(echo %s/nvidia/*/lib | tr " " :)"; export LD_LIBRARY_PATH; '
                 'for f in %s/lib/* %s/libexec/*; do '
                 '  [ -L "$f" ] && continue; head -c 4 "$f" | grep -q ELF || continue; '
                 '  echo "== $f"; ldd "$f"; done' % (bundle, SITE, bundle, bundle))
    assert res.returncode == 0, res.stdout[-3000:]
    assert "== %s/libexec/caffe.bin" % bundle in res.stdout
    assert "not found" not in res.stdout, [l for l in res.stdout.splitlines() if "not found" in l]
    for line in res.stdout.splitlines():
        if "=>" not in line:
            continue
        name, path = line.split("=>")[0].strip(), line.split("=>")[1].split()[0]
        if path.startswith(bundle + "/") or path.startswith(SITE + "/"):
            continue
        assert name.startswith(SYSTEM), "%s comes from the base system (%s)" % (name, path)


@slow
def test_cpu_path_end_to_end_with_wheel_libraries(bundle):
    """run-check --cpu: CUDA libraries found in the (Python-less) site-packages,
    caffe time in CPU mode, the numerics helper, every SMOKE stage trained,
    the no-GPU message, a verdict; RACNN_TF32=1 recorded for the training."""
    res = chroot("cd %s && ./run-check --cpu --quick --out /tmp/rc && exit 99" % bundle,
                 env={"RACNN_TF32": "1"}, timeout=1500)
    out = os.path.join(BARE, "tmp", "rc")
    try:
        assert res.returncode == 2, res.stdout[-6000:]
        verdict = json.load(open(os.path.join(out, "verdict.json")))
        status = {p["name"]: p["status"] for p in verdict["parts"]}
        assert status == {"libraries": "PASS", "device": "SKIP", "table1": "CPU",
                          "numerics": "CPU", "smoke": "CPU", "speed": "SKIP",
                          "datalayer": "SKIP"}, verdict["parts"]
        assert verdict["gpu"] is False and "NOT verified" in verdict["verdict"]
        assert SITE in verdict["cuda_libs"], verdict["cuda_libs"]
        assert verdict["smoke_racnn_tf32"] is True and "RACNN_TF32=1" in verdict["smoke_math"]
        assert json.load(open(os.path.join(out, "smoke", "config.json")))["racnn_tf32"] is True
        assert [t["net"] for t in verdict["table1"]] == ["alexnet_cnn", "alexnet_racnn"]
        assert all(t["ms_per_iter"] > 0 for t in verdict["table1"])
        assert verdict["numerics"] and all(n["result"]["worst_rel_to_max"] == 0
                                           for n in verdict["numerics"])
        stages = [s["stage"] for s in verdict["smoke"]]
        assert "stage1_sr" in stages and "racnn_p" in stages
        for s in verdict["smoke"]:
            assert os.path.isfile(os.path.join(out, s["final_model"])), s
        message = open(os.path.join(out, "no-gpu-message.txt")).read()
        assert "caffe-gpu-check:" in message and "no NVIDIA driver" in message, message
        assert "exit 1" in message and "Check failed" not in message
        parts = verdict["archive"].split()         # results.tar.gz, or its 15 MiB parts
        assert parts and all(os.path.isfile(os.path.join(out, p)) for p in parts), parts
        assert open(os.path.join(out, "verdict.txt")).read().count("VERDICT:") == 1
        litter = [f for f in os.listdir(os.path.join(BARE, "tmp")) if f.startswith("caffe")]
        assert not litter, litter[:5]               # glog to stderr, not files in /tmp
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_a_missing_cuda_library_is_named_with_how_to_supply_it(bundle):
    res = chroot("%s/bin/caffe --version" % bundle, env={"CUDA_LIBS": "/nonexistent"})
    assert res.returncode == 1, res.stdout
    assert "libcudart.so.13 not found" in res.stdout and "CUDA_LIBS" in res.stdout
    assert "pip install nvidia-cuda-runtime" in res.stdout


def test_cuda_libs_names_the_folders_by_hand(bundle):
    dirs = ":".join("%s/nvidia/%s/lib" % (SITE, d) for d in ("cu13", "nccl", "cudnn"))
    res = chroot("%s/bin/caffe-gpu-check 0; echo exit $?" % bundle, env={"CUDA_LIBS": dirs})
    assert "no NVIDIA driver is loaded" in res.stdout and "exit 1" in res.stdout, res.stdout


def test_the_cudnn_build_is_linked_in_and_off_by_default():
    """libcaffe links cuDNN 9 through the ported calls and reads the switches
    of patches 03-05 (the default engine stays Caffe's)."""
    with tarfile.open(ARCHIVE) as tar:
        lib = tar.extractfile("racnn-gpu-bundle/lib/libcaffe.so.1.0.0").read()
        info = tar.extractfile("racnn-gpu-bundle/BUILD-INFO").read().decode()
    for s in (b"libcudnn.so.9", b"cudnnGetConvolutionForwardAlgorithm_v7",
              b"cudnnSetConvolutionMathType", b"RACNN_CUDNN", b"RACNN_TF32",
              b"cublasSetMathMode"):
        assert s in lib, s
    assert b"cudnnGetConvolutionForwardAlgorithm\x00" not in lib      # the call cuDNN 8 removed
    assert "cuDNN 9." in info and "05-default-engine-caffe.patch" in info, info


# A stand-in for a GPU, for the logic of run-check's GPU path (speed options,
# numerics combinations, GPU verdict), which no machine here can run for real:
# caffe-gpu-check says yes, and caffe / racnn-numerics drop -gpu / --gpu and
# run on the CPU. Not a GPU test: it checks that the GPU branch of the script
# runs through and writes a complete verdict.
_FAKE = {
    "libexec/caffe-gpu-check": '#!/bin/sh\n[ "$1" = --list ] && echo "0 STAND-IN sm_90 0 MiB"\nexit 0\n',
    "libexec/caffe": '#!/bin/sh\nhere=$(dirname "$(readlink -f "$0")")\n'
                     'case " $* " in *" device_query "*) exit 0 ;; esac\n'
                     'exec "$here/caffe.bin" $(echo "$*" | sed "s/ -gpu [0-9]*//")\n',
    "libexec/racnn-numerics": '#!/bin/sh\nhere=$(dirname "$(readlink -f "$0")")\n'
                              'exec "$here/racnn-numerics.real" $(echo "$*" | sed "s/--gpu [0-9]*//")\n',
}


@slow
def test_the_gpu_branch_of_run_check_runs_through_with_a_stand_in(bundle):
    top = tempfile.mkdtemp(prefix="racnn-bundle-fake-gpu-", dir=os.path.join(BARE, "opt"))
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(top)
    root = os.path.join(top, "racnn-gpu-bundle")
    os.rename(os.path.join(root, "libexec", "racnn-numerics"),
              os.path.join(root, "libexec", "racnn-numerics.real"))
    for name, text in _FAKE.items():
        with open(os.path.join(root, name), "w") as fh:
            fh.write(text)
        os.chmod(os.path.join(root, name), 0o755)
    inside = "/" + os.path.relpath(root, BARE)
    res = chroot("cd %s && ./run-check --quick --iterations 1 --out /tmp/rcgpu" % inside, timeout=1500)
    out = os.path.join(BARE, "tmp", "rcgpu")
    try:
        if res.returncode != 0:
            logs = [open(os.path.join(dp, f), errors="replace").read()[-1500:]
                    for dp, _, fs in os.walk(os.path.join(out, "timing")) for f in fs]
            assert res.returncode == 0, res.stdout[-6000:] + "\n".join(logs)
        verdict = json.load(open(os.path.join(out, "verdict.json")))
        status = {p["name"]: p["status"] for p in verdict["parts"]}
        assert status == {"libraries": "PASS", "device": "PASS", "table1": "PASS",
                          "numerics": "PASS", "smoke": "PASS", "speed": "PASS",
                          "datalayer": "SKIP"}, verdict["parts"]
        assert "VERIFIED on GPU 0 (STAND-IN" in verdict["verdict"]
        combos = {(s["net"], s["combination"]) for s in verdict["speed"]}
        assert len(combos) == 12, combos
        runs = {(n["run"], n["reference"]) for n in verdict["numerics"]}
        assert ("fp32_im2col", "cpu") in runs and ("tf32_cudnn", "fp32_im2col") in runs, runs
    finally:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(top, ignore_errors=True)
