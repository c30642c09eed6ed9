"""One definition per concept: every set of names lives in racnn.vocab, and
a second literal list of them anywhere else (a tuple of backbone names in a
grid, a dict keyed by dataset names, a Makefile list) is refused, naming the
file and line.  Read from the source (ast; the Makefile as text)."""
import ast
import os
import re
import subprocess
import sys

import pytest

from racnn import paper, vocab
from racnn.paths import REPO

#: the vocabulary's name sets: two names of one set in one literal = a second definition
NAME_SETS = {
    "datasets": set(vocab.DATASETS) | set(vocab.DATASET_ALIASES),
    "formats": set(vocab.FORMATS),
    "backbones": set(vocab.BACKBONES),
    "modes": set(vocab.MODES),
    "readings": set(vocab.READINGS),
    "SR weights": set(vocab.SR_WEIGHTS),
    "kernels": set(vocab.KERNELS),
    "variants": set(vocab.VARIANTS),
    "stages": set(vocab.STAGES),
    "g-RACNN SR starts": set(vocab.G_SR_INITS),
    "stage-2 lengths": set(vocab.STAGE2_LENGTHS),
}
#: where names may be listed literally: the vocabulary itself, and the paper's
#: numbers, which are data keyed by the vocabulary's names (their keys are
#: checked against it below)
ALLOWED = {os.path.join("racnn", "vocab.py"), os.path.join("racnn", "paper.py")}


def python_files():
    for top in ("racnn", "tools", "bench"):
        for d, dirs, files in os.walk(os.path.join(REPO, top)):
            dirs[:] = [x for x in dirs if x != "__pycache__"]
            for f in sorted(files):
                if f.endswith(".py"):
                    yield os.path.join(d, f)


def _strings(nodes):
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def second_definitions(path, source=None):
    """['file:line: <set> name, name'] for every literal tuple/list/set, or
    dict's keys, holding two or more names of one vocabulary set."""
    rel = os.path.relpath(path, REPO)
    tree = ast.parse(source if source is not None else open(path, encoding="utf-8").read())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            names = _strings(node.elts)
        elif isinstance(node, ast.Dict):
            names = _strings([k for k in node.keys if k is not None])
        else:
            continue
        for what, valid in NAME_SETS.items():
            hits = sorted({n for n in names if n in valid})
            if len(hits) >= 2:
                out.append("%s:%d: %s %s" % (rel, node.lineno, what, ", ".join(hits)))
    return out


def test_no_second_literal_list_of_vocabulary_names():
    found = []
    for path in python_files():
        if os.path.relpath(path, REPO) not in ALLOWED:
            found += second_definitions(path)
    assert not found, "names listed outside racnn/vocab.py (derive them from it):\n" + \
        "\n".join(found)


def test_the_check_sees_a_second_definition():
    """Not vacuous: a grid's literal backbone tuple and a dict keyed by
    datasets are found; names built from racnn.vocab are not."""
    code = ('BACKBONES = ("alexnet", "vgg16", "googlenet")\n'
            'SIZES = {"cars": 1, "birds": 2}\n'
            'OK = tuple(vocab.PAPER_BACKBONES) + ("alexnet",)\n')
    assert second_definitions(os.path.join(REPO, "racnn", "x.py"), code) == [
        "racnn/x.py:1: backbones alexnet, googlenet, vgg16",
        "racnn/x.py:2: datasets birds, cars"]


def test_makefile_lists_come_from_the_vocabulary():
    """The Makefile asks racnn.vocab (`python3 -m racnn.vocab make`) for its
    lists; no line of it spells two names of one set itself."""
    text = open(os.path.join(REPO, "Makefile"), encoding="utf-8").read()
    assert "racnn.vocab make" in text
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#") or line.startswith("\t@echo"):
            continue
        words = set(re.findall(r"[a-z_0-9]+", line))
        for what, valid in NAME_SETS.items():
            assert len(words & valid) < 2, "Makefile:%d lists %s itself: %s" % (n, what, line)
    for name, names in (("datasets", vocab.DATASETS), ("backbones", vocab.PAPER_BACKBONES)):
        out = subprocess.run([sys.executable, "-m", "racnn.vocab", "make", name], cwd=REPO,
                             stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
        assert out.split() == list(names)
    helptext = subprocess.run(["make", "-s", "help"], cwd=REPO, stdout=subprocess.PIPE,
                              universal_newlines=True, check=True).stdout
    assert "datasets: %s; backbones: %s" % (" ".join(vocab.DATASETS),
                                            " ".join(vocab.PAPER_BACKBONES)) in helptext
    # and each <dataset>-<backbone> target exists
    dry = subprocess.run(["make", "-n", "birds-vgg16"], cwd=REPO, stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    assert "tools/experiment.py birds vgg16" in dry


def test_the_papers_numbers_are_keyed_by_vocabulary_names():
    for backbone, variant in list(paper.TABLE_II) + [(b, r) for b, r in paper.TABLE_I]:
        assert backbone in vocab.PAPER_BACKBONES
    for per_ds in list(paper.TABLE_II.values()) + list(paper.TABLE_I.values()) + \
            list(paper.FIG_4.values()):
        assert set(per_ds) <= set(vocab.DATASETS)
    assert {v for _, v in paper.TABLE_II} | set(paper.TABLE_III) <= set(vocab.VARIANTS)
    assert set(paper.FIG_4) <= set(vocab.VARIANTS) | {"racnn"}
    assert set(paper.FIG_4_RACNN_VARIANTS) <= set(vocab.VARIANTS)


def test_stages_their_order_and_what_each_reads():
    assert vocab.STAGE_ORDER[:2] == ("backbone_hr", "stage1_sr")
    for name, spec in vocab.STAGES.items():       # a stage reads only earlier stages
        assert all(vocab.STAGE_ORDER.index(r) < vocab.STAGE_ORDER.index(name)
                   for r in spec.reads), name
    # what the stages of one run read: racnn.rundir.settings.stage_reads (g-RACNN reads
    # stage 1 only when it starts from the SR weights: tests/rundir/test_settings.py)
    assert vocab.SR_SOURCE_STAGES == ("stage1_sr",)
    assert [s for s in vocab.STAGE_ORDER if "stage1_sr" in vocab.STAGES[s].reads] == [
        "racnn_g", "racnn_p"]
    assert [s for v in vocab.VARIANTS.values() for s in v.stages] == \
        [s for s in vocab.STAGE_ORDER if s not in ("backbone_hr", "stage1_sr")]


@pytest.mark.parametrize("name", ["Cars", "cub", "CUB_200_2011", "oxford_flowers"])
def test_dataset_aliases_resolve(name):
    assert vocab.dataset_spec(name).name in vocab.DATASETS
