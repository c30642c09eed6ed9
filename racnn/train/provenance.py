"""Where a run folder's contents came from, and what happens when that
changes: the code version (VERSION), the configuration a folder was made
with (a folder made with another is refused), each stage's sources and their
sha256, stale stages, and restarts that move a stage's earlier files to
``superseded/`` instead of deleting them."""
import os
import shutil
import subprocess
import time

from .. import __version__, atomic
from ..errors import RacnnError
from ..paths import REPO
from ..rundir import layout
from ..rundir.reader import load_config, save_config, sha256
from ..rundir.settings import stage_dependents
from ..rundir.verdict import config_differences, trained_anything


def code_version():
    """``git describe --always --dirty`` of the checkout (or the package
    version outside git), e.g. ``cca7fba-dirty``."""
    try:
        out = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty", "--tags"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=20)
        desc = out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        desc = ""
    return "%s (racnn %s)" % (desc or "not a git checkout", __version__)


# ------------------------------------------- sources, stale copies, restarts
def source_hashes(src):
    """{key: sha256} of the sources a stage copies (racnn.rundir.layout.COPIED
    keys of ``src``)."""
    return {k: sha256(v) for k, v in sorted(src.items()) if k in layout.COPIED and v}


def changed_sources(record, src):
    """The sources (``src``: {key: path}) whose content differs from what the
    stage recorded when it copied them, as "path (sha256 old.. -> new..)"
    strings; [] when nothing changed or the stage recorded no hashes (run
    folders of older versions)."""
    old = (record or {}).get("source_sha256") or {}
    out = []
    for key, new in source_hashes(src).items():
        if key in old and old[key] != new:
            out.append("%s (sha256 %s.. -> %s..)" % (_short(src[key]), old[key][:12], new[:12]))
        elif key not in old and old:
            out.append("%s (new source)" % _short(src[key]))
    return out


def _short(path):
    return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path


def supersede(stage_dir):
    """Move a stage folder's files (all but ``generated/``, where the sources
    of a generated net are) to ``<run>/superseded/<stage>-<time>/``, so the
    stage starts afresh and nothing is deleted; returns that folder."""
    # (a shared stage-1 model's link: its files move aside beside the shared folder)
    run_dir, name = os.path.split(os.path.realpath(stage_dir))
    dst = os.path.join(run_dir, layout.SUPERSEDED, "%s-%s" % (name, time.strftime("%Y%m%dT%H%M%S")))
    while os.path.exists(dst):
        dst += "_"
    os.makedirs(dst)
    for entry in sorted(os.listdir(stage_dir)):
        if entry != layout.GENERATED:
            shutil.move(os.path.join(stage_dir, entry), os.path.join(dst, entry))
    return dst


def restart_set(names, plan, cfg):
    """The stages to train afresh for ``--restart names``: each name (which
    must be in ``plan``, the stages of ``cfg``) and the stages of ``plan``
    that read its final model (racnn.rundir.settings.stage_dependents)."""
    out = []
    for name in names or ():
        if name not in plan:
            raise RacnnError("--restart %s: not a stage of this run (its stages: %s)"
                             % (name, ", ".join(plan)))
        for stage in (name,) + stage_dependents(cfg, name, plan):
            if stage in plan and stage not in out:
                out.append(stage)
    return out


def stale_message(name, changed, command):
    """What the driver says about a finished stage whose sources changed."""
    return ("%s is STALE: it finished with an older copy of %s; its model and results are of "
            "the old net (its copy: %s/train_val.prototxt). To retrain it with the current "
            "file: %s --restart %s" % (name, "; ".join(changed), name, command, name))


def source_note(train_val, stage_dir):
    """Which net a stage trains, for the log: the file, and for a net the
    driver generated into ``<stage>/generated/`` how to edit it instead."""
    if os.path.dirname(os.path.abspath(train_val)) == os.path.join(
            os.path.abspath(stage_dir), layout.GENERATED):
        return ("a net generated for this run (%s); to edit it, write the set once with "
                "tools/make_nets.py ... --out mynets/, edit it there and rerun with --nets "
                "mynets/" % os.path.relpath(train_val, os.path.dirname(stage_dir)))
    return _short(os.path.abspath(train_val))


#: top-level entries of config.json that one attempt writes and the next keeps
KEPT = ("report", "schedule_note")


def merged(disk, record, owned):
    """config.json's content when a driver of the stages ``owned`` saves
    ``record`` while drivers of other stages of the same run folder may have
    saved theirs (``disk``, read under the config lock): each stage's entries
    (``stages``, ``stale``) from the driver that owns it, ``paths`` from both,
    the settings from ``record``."""
    out = dict(record)
    for key in ("stages", "stale"):
        theirs = {k: v for k, v in (disk.get(key) or {}).items() if k not in owned}
        out[key] = dict(theirs, **{k: v for k, v in (record.get(key) or {}).items()
                                   if k in owned})
    out["paths"] = dict(disk.get("paths") or {}, **(record.get("paths") or {}))
    for key in KEPT:
        if key in disk and key not in out:
            out[key] = disk[key]
    return out


def prepare(run_dir, config, keep=(), owned=None):
    """Create ``run_dir`` (or reuse it): write VERSION and config.json.  A
    folder made with another configuration (racnn.rundir.verdict's compared
    keys) is an error naming the differences, never silently mixed, once
    any of its stages has started training; before that it holds nothing
    and takes the new configuration.  The dict entries ``keep`` of an
    earlier config.json (what earlier attempts recorded) are merged into
    ``config`` first, and so are the stale stages and ``KEPT`` entries of
    the stages a driver does not train (``owned``: the stages this driver
    trains; None: all).  The caller holds the config lock.  Returns the
    code version."""
    os.makedirs(run_dir, exist_ok=True)
    old = load_config(run_dir)
    if old is not None:
        diff = config_differences(old, config)
        if diff and trained_anything(run_dir):
            raise RacnnError("%s was made with another configuration (%s); use another "
                             "--run-dir or delete that folder" % (run_dir, "; ".join(diff)))
        for key in keep if not diff else ():
            config[key].update(old.get(key) or {})
        if not diff and owned is not None:
            config.update(merged(old, config, owned))
    version = code_version()
    lines = [version]
    vpath = os.path.join(run_dir, layout.VERSION)
    if os.path.isfile(vpath):
        with open(vpath) as fh:
            previous = fh.read().strip().splitlines()
        if previous and previous[-1] != version:
            lines = previous + [version]        # a resumed run: every version used
    atomic.write_text(vpath, "\n".join(lines) + "\n")
    save_config(run_dir, config)
    return version


