"""The README's commands work as written from a fresh clone (issue 15, item
8: its sr_view example pointed at ../shared, which a clone does not have).

The tracked files are copied into a temporary folder (what a clone holds:
no data/, no runs/, no ../shared beside it).  Every command of the README's
``sh`` blocks is then checked there:

* commands that need no download and take seconds run exactly as written;
* `make` lines: ``make -n`` accepts the target, and every VARIABLE= is one
  the Makefile reads;
* every other `tools/*.py` line: the tool exists, each --option is in its
  --help, and each path is in the clone, or is made by a README command
  before it (a `tools/fetch.py NAME` line makes racnn.fetch's destination of
  NAME), or is a placeholder (DIR, RUN_DIR, A.caffemodel, ...).
"""
import os
import re
import shlex
import shutil
import subprocess

import pytest

from racnn import fetch
from racnn.paths import REPO

#: commands run as written: (tool, an argument that must be there or None)
QUICK = (("tools/fetch.py", "--list"), ("tools/make_nets.py", "--out"))
#: option values that name outputs (they need not exist beforehand)
OUTPUT_OPTIONS = ("--out",)


def readme_commands(text):
    """The commands of the README's ``sh`` blocks (continuations joined,
    comments dropped), in order, with the line where each starts."""
    out = []
    for block in re.finditer(r"^( *)```sh\n(.*?)^\1```", text, re.S | re.M):
        start = text[:block.start()].count("\n") + 2
        pending, first = "", None
        for i, line in enumerate(block.group(2).splitlines()):
            line = line.strip()
            if first is None:
                first = start + i
            if line.endswith("\\"):
                pending += line[:-1].rstrip() + " "
                continue
            cmd = re.sub(r"\s+#.*$", "", pending + line).strip()
            if cmd:
                out.append((first, cmd))
            pending, first = "", None
    return out


def placeholder(token):
    """DIR, RUN_DIR/cnn/train.log, DEPLOY.prototxt, A.caffemodel, PHOTO.jpg ..."""
    return bool(re.search(r"(^|[/=])[A-Z][A-Z0-9_]*(\.|/|$)", token))


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """The tracked files (as in the work tree) in a folder of their own."""
    top = tmp_path_factory.mktemp("clone")
    dst = str(top / "racnn-caffe")
    files = subprocess.run(["git", "-C", REPO, "ls-files", "-z"], stdout=subprocess.PIPE,
                           check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = os.path.join(REPO, rel)
        if not os.path.isfile(src):          # deleted in the work tree, not yet committed
            continue
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, rel))
    assert not os.path.exists(os.path.join(dst, "data")) and \
        not os.path.exists(str(top / "shared"))
    return dst


def run(cmd, cwd):
    env = dict(os.environ)
    env.pop("RACNN_DATA", None)
    env.pop("RACNN_RUNS", None)
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)


class Checker(object):
    """Checks README commands in order, in the clone ``root``."""

    def __init__(self, root):
        self.root = root
        self.helps, self.made, self.ran = {}, set(), []

    def problems(self, cmd):
        words = shlex.split(cmd)
        if words[0] == "make":
            def dry(ws):
                return run("make -n " + " ".join(shlex.quote(w) for w in ws), self.root)
            full = dry(words[1:])
            # a setting is read when another value of it changes the command make runs
            out = ["the Makefile does not read %s" % w.split("=")[0]
                   for w in words[1:] if "=" in w and
                   dry([x if x != w else w.split("=")[0] + "=7racnn" for x in words[1:]]
                       ).stdout == full.stdout]
            return out + (["make -n fails: %s" % full.stdout[-500:]] if full.returncode else [])
        if words[:2] != ["docker/run", "python3"] or not words[2].startswith("tools/"):
            return []                              # docker build/run: tests/docker/test_image.py
        tool, args = words[2], words[3:]
        if not os.path.isfile(os.path.join(self.root, tool)):
            return ["no %s" % tool]
        if any(tool == t and (a is None or a in args) for t, a in QUICK):
            result = run(cmd, self.root)
            self.ran.append(cmd)
            return ["exit %d: %s" % (result.returncode, result.stdout[-800:])] \
                if result.returncode else []
        out = []
        if tool not in self.helps:
            self.helps[tool] = run("docker/run python3 %s --help" % tool, self.root).stdout
        out += ["%s has no option %s" % (tool, a) for a in args
                if a.startswith("--") and a.split("=")[0] not in self.helps[tool]]
        if tool == "tools/fetch.py":               # what the fetch makes, later lines may use
            for name in [a for a in args if not a.startswith("-")]:
                for one in fetch.GROUPS.get(name, [name]):
                    self.made.add(os.path.relpath(fetch.destination(
                        fetch.resource(one), os.path.join(self.root, "data")), self.root))
        for before, a in zip([None] + args, args):
            if a.startswith("-") or placeholder(a) or before in OUTPUT_OPTIONS:
                continue
            if "/" not in a and "." not in a:
                continue                            # a name or a number
            if a.startswith("../") or os.path.isabs(a):
                out.append("%s is outside the repository (not in a fresh clone)" % a)
            elif not os.path.exists(os.path.join(self.root, a)) and \
                    not any(a == m or a.startswith(m + "/") for m in self.made):
                out.append("%s is neither in a fresh clone nor made by a README command "
                           "before it" % a)
        return out


def test_readme_commands_work_from_a_fresh_clone(clone):
    with open(os.path.join(REPO, "README.md")) as fh:
        commands = readme_commands(fh.read())
    assert len(commands) > 15
    checker = Checker(clone)
    problems = ["README.md line %d: %s: %s" % (line, cmd, p)
                for line, cmd in commands for p in checker.problems(cmd)]
    assert len(checker.ran) >= len(QUICK), checker.ran
    assert not problems, "\n".join(problems)


def test_the_checks_catch_the_examples_that_failed(clone):
    """The sr_view example a new user ran (../shared, not in a clone) and a
    weights file no README command fetched are caught; the fixed form passes
    after the fetch line; placeholders are told from paths."""
    cmds = readme_commands("x\n```sh\ndocker/run python3 tools/sr_view.py --weights "
                           "../shared/models/rsrcnn_authors.caffemodel \\\n  --out sr.png"
                           "   # look\n```\n")
    assert cmds == [(3, "docker/run python3 tools/sr_view.py --weights "
                        "../shared/models/rsrcnn_authors.caffemodel --out sr.png")]
    checker = Checker(clone)
    assert checker.problems("make cars-alexnet NO_SUCH_KNOB=7") == [
        "the Makefile does not read NO_SUCH_KNOB"]
    assert checker.problems("make cars-alexnet RES=25 MULTS=release") == []
    assert checker.problems(cmds[0][1]) == [
        "../shared/models/rsrcnn_authors.caffemodel is outside the repository (not in a "
        "fresh clone)"]
    fixed = "docker/run python3 tools/sr_view.py --weights data/models/rsrcnn_authors.caffemodel"
    assert checker.problems(fixed) == ["data/models/rsrcnn_authors.caffemodel is neither in a "
                                       "fresh clone nor made by a README command before it"]
    assert checker.problems("docker/run python3 tools/fetch.py rsrcnn_authors --no-such") == [
        "tools/fetch.py has no option --no-such"]
    assert checker.problems(fixed) == []
    assert placeholder("DIR") and placeholder("RUN_DIR/cnn/train.log")
    assert placeholder("A.caffemodel") and placeholder("--model=DEPLOY.prototxt")
    assert not placeholder("data/models/rsrcnn_authors.caffemodel")
    assert not placeholder("prototxt/alexnet/cars/racnn_deploy.prototxt")
