"""Every `make <dataset>-<backbone>` example of the README whose comment
names a paper table is a setting the report would place in that table
(issue 21, item 8: `make birds-vgg16 RES=25 MODE=frozen  # a Table III /
Table II setting` was neither).  The configuration is what `make -n` hands
tools/experiment.py; the reading is the one the comment's `make report ...`
names, else the default.  (The README's commands running from a fresh
clone: tests/workflows/test_readme_commands.py.)"""
import json
import os
import re
import shlex
import subprocess

from racnn.paths import REPO


#: the tables a README comment may name, as racnn.report.cells names them
TABLES = (("Table III", r"Table III\b"), ("Table II", r"Table II\b(?!I)"),
          ("Fig. 4", r"Fig\. 4\b"))


def make_examples(text):
    """(line, command, comment) of the README's `make <dataset>-<backbone>`
    lines whose comment names a paper table."""
    out = []
    for block in re.finditer(r"^```sh\n(.*?)^```", text, re.S | re.M):
        start = text[:block.start()].count("\n") + 2
        for i, line in enumerate(block.group(1).splitlines()):
            cmd, _, comment = line.partition("#")
            if re.match(r"\s*make \w+-\w+", cmd) and any(re.search(p, comment)
                                                         for _, p in TABLES):
                out.append((start + i, cmd.strip(), comment.strip()))
    return out


def landing(cmd, comment):
    """The paper tables the report would place the runs of ``cmd`` in, under
    the reading the comment's `make report ...` names (else the default):
    the configuration is what `make -n` hands tools/experiment.py."""
    from racnn.report import cells
    from racnn.rundir import keying, settings
    dry = subprocess.run(["make", "-n"] + shlex.split(cmd)[1:], cwd=REPO,
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    words = shlex.split([l for l in dry.splitlines() if "tools/experiment.py" in l][0])
    args = words[words.index("tools/experiment.py") + 1:]
    overrides = {}
    for flag, value in zip(args, args[1:] + [""]):
        if flag == "--set":
            key, value = value.split("=", 1)
            try:
                overrides[key] = json.loads(value)
            except ValueError:
                overrides[key] = value
        elif flag == "--seeds":
            overrides["seed"] = int(value.split(",")[0])
    cfg = settings.make_config(args[0], args[1], smoke="--smoke" in args, **overrides)
    report = re.search(r"make report((?: \w+=\S+?)*)(?:\)|$| )", comment)
    reading = keying.reading(**{
        k.lower(): v for k, v in (kv.split("=") for kv in (report.group(1).split()
                                                           if report else []))})
    records = [dict(keying.fields(cfg, v), dataset=cfg["dataset"], backbone=cfg["backbone"],
                    variant=v, res=cfg["res"], mode=cfg["mode"], mults=cfg["mults"],
                    sr_weights=cfg["sr_weights"], smoke=cfg["smoke"], ours=50.0, overall=50.0,
                    num_images=1, iteration=1, run="r", config=None, log=None, model=None,
                    eval=None, evaluated=0) for v in cfg["variants"]]
    placed, _ = cells.paper_rows(records, reading)
    return {c["table"] for c in placed if c["ours"] is not None}


def test_each_make_example_lands_where_its_comment_says():
    """`make birds-vgg16 RES=25 MODE=frozen  # a Table III / Table II setting`
    was neither (Table III is AlexNet only, r = 25 is not Table II): every
    make example whose comment names a paper table must be a setting the
    report places in that table."""
    with open(os.path.join(REPO, "README.md")) as fh:
        examples = make_examples(fh.read())
    assert len(examples) >= 4
    wrong = ["README.md line %d: %s  # %s: the report places it in %s" % (
        line, cmd, comment, ", ".join(sorted(landing(cmd, comment))) or "no paper table")
        for line, cmd, comment in examples
        if not {t for t, p in TABLES if re.search(p, comment)} <= landing(cmd, comment)]
    assert not wrong, "\n".join(wrong)
    # the check sees the example that was wrong
    assert landing("make birds-vgg16 RES=25 MODE=frozen", "a Table III / Table II setting") \
        == set()
    assert landing("make birds-vgg16 MODE=frozen MULTS=release", "Table II") == set()
    assert landing("make birds-vgg16 MODE=frozen MULTS=release",
                   "Table II (make report MULTS=release)") == {"Table II"}
