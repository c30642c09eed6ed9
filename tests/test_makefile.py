"""The Makefile hands every experiment setting on, to an experiment and to
every run of a sweep, and the report's reading: `make -n` prints the
command each target runs."""
import subprocess

from racnn.paths import REPO


def _make_n(*args):
    r = subprocess.run(["make", "-n"] + list(args), cwd=REPO, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, r.stderr
    return " ".join(r.stdout.split())


def test_an_experiment_takes_a_data_root_and_every_setting():
    out = _make_n("flowers-alexnet", "RES=16", "DATA_ROOT=/photos/flowers", "FORMAT=flowers",
                  "MODE=frozen", "MULTS=release", "SEED=7", "SPLIT_FROM=all",
                  "TEST_FRACTION=0.2", "KERNEL=pil", "RUN_DIR=/runs/x", "KEEP_STALE=1",
                  "SET=stage2_epochs=3")
    assert "tools/experiment.py flowers alexnet" in out
    for arg in ("--set res=16", "--set data_root=/photos/flowers", "--set data_format=flowers",
                "--set mode=frozen", "--set mults=release", "--set seed=7",
                "--set split_from=all", "--set test_fraction=0.2", "--set kernel=pil",
                "--set stage2_epochs=3", "--run-dir /runs/x", "--keep-stale"):
        assert arg in out, (arg, out)


def test_a_sweep_and_the_report_carry_the_settings():
    out = _make_n("sweep", "SWEEP=table2", "MULTS=release", "RES=50", "MODE=frozen",
                  "RUNS_DIR=/elsewhere")
    assert "tools/sweep.py run table2" in out
    for arg in ("--set mults=release", "--set res=50", "--set mode=frozen",
                "--runs-dir /elsewhere"):
        assert arg in out, (arg, out)
    assert "--mults release" in _make_n("report", "MULTS=release")
    assert "--backend apptainer" in _make_n("sweep", "ENTRY=apptainer")      # the old name
    assert "--backend rootfs" in _make_n("sweep", "BACKEND=rootfs")


def _knobs():
    """The Makefile's SETTINGS list: [(KNOB, key)]."""
    import re
    with open(REPO + "/Makefile") as fh:
        text = fh.read()
    block = re.search(r"^SETTINGS := (.*?)\n(?!\s)", text, re.S | re.M).group(1)
    return [tuple(kv.split("=")) for kv in block.replace("\\", " ").split()]


def test_every_experiment_knob_reaches_a_named_sweep_and_every_reading_the_report():
    """`make -n sweep SWEEP=table2 MULTS=release` and `make -n report
    MULTS=release` printed commands without the setting (issue 21, item 2):
    every knob of SETTINGS reaches each run of a named sweep and its cost
    estimate, and each setting the paper leaves open reaches the report."""
    from racnn.rundir import keying
    knobs = _knobs()
    assert ("MULTS", "mults") in knobs and len(knobs) >= 20
    args = ["%s=v%d" % (knob, i) for i, (knob, _) in enumerate(knobs)]
    for target in ("sweep", "sweep-cost"):
        out = _make_n(target, "SWEEP=table2-release", *args)
        missing = [a for i, (_, key) in enumerate(knobs) for a in ["--set %s=v%d" % (key, i)]
                   if a not in out]
        assert not missing, (target, missing)
    by_key = dict((key, knob) for knob, key in knobs)
    out = _make_n("report", *["%s=x" % by_key[k] for k in keying.READING_KEYS])
    for key in keying.READING_KEYS:
        assert "--%s x" % key.replace("_", "-") in out, (key, out)
