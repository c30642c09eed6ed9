"""The shared stage-1 model.  Stage 1 (SR pre-training) reads only the SR
images, their degradation, the patch settings, its own net and solver and
the seed, never the backbone or the classifier's settings, so one model
serves every run whose stage-1 settings agree (the paper trains it once, on
ImageNet DET images, for every dataset and backbone).

The model lives in a content-addressed folder beside the run folders,
``<runs>/sr/<images>-<settings hash>/``: a stage folder like any other
(docs/DESIGN.md, "Run folder") plus ``shared.json`` (the settings, their
hash, the stage's record and the final model's sha256, written once the
model is final).  Each run that uses it links ``<run>/stage1_sr`` to that
folder and records which model it used in its config.json
(``stages.stage1_sr.shared_model``: path, sha256, settings_hash, sr_images).
A folder whose hash matches but whose files are incomplete or corrupt (no
DONE, no final model, a final model whose sha256 is not the recorded one) is
never used.

``settings(cfg)`` is every setting that changes stage 1's net, solver or
data: ``STAGE1_KEYS`` always, ``DATASET_KEYS`` when stage 1 trains on the
dataset's own training images (``sr_images`` unset), the configuration's
stage-1 solver overrides and the sha256 of the net and solver it copies.
Every configuration key is in one of these lists or in ``ELSEWHERE`` (what
it changes instead), and tests/rundir/test_sr_model.py fails on a new key
that is in none.  Pure Python: the sweep counts the models of its plan on a
login node.
"""
import hashlib
import json
import os
import re

from .. import atomic, vocab
from ..errors import RacnnError
from ..nets import layout as net_layout
from .layout import COPIED
from .reader import sha256
from .settings import DEFAULTS
from .stage import read_done

#: the folder of shared stage-1 models, beside the run folders
SHARED_DIR = "sr"
#: the record of a shared model, written once its final model exists
RECORD = "shared.json"
#: its stage record (sources, sha256, iterations) from the moment it is set up
SETUP = "stage.json"
STAGE = "stage1_sr"

#: configuration keys that reach stage 1 in every run
STAGE1_KEYS = (
    "sr_images", "sr_max_images", "sr_size", "sr_res", "sr_patch", "sr_stride",  # its data
    "kernel",                  # the degradation of its LR patches
    "seed",                    # patch sampling, solver random_seed, fillers
    "mults",                   # its net: prototxt/sr/sr_pretrain_<mults>.prototxt
    "stage1_epochs", "stage1_batch", "iters", "snapshots",        # its solver
    "tf32", "cudnn",           # the arithmetic it is trained with
    "solver")                  # only the stage-1 part of the overrides
#: keys that reach stage 1 only when it trains on the dataset's own training
#: images (sr_images unset); test_fraction only with split_from
DATASET_KEYS = ("dataset", "data_root", "data_format", "split_from", "test_fraction")
#: every other configuration key, and why it does not reach stage 1
ELSEWHERE = {
    "backbone": "the classifier's", "res": "the classifiers' LR images (stage 1: sr_res)",
    "mode": "the classifier's multipliers", "variants": "which stages run",
    "sr_weights": "whether stage 1 runs at all", "restart": "which stages are retrained",
    "g_sr_init": "whether g-RACNN reads stage 1, not stage 1 itself",
    "stage2_length": "stage 2's schedule",
    "nets": "read through the sha256 of the files stage 1 copies", "gpu": "the device",
    "smoke": "read through the keys it sets (iters, sr_max_images, stage1_batch, ...)",
    "db_size": "the classification databases (stage 1: sr_size)",
    "train_limit": "the classification databases", "test_limit": "the classification databases",
    "backbone_weights": "the classifiers' initial weights",
    "authors_sr_weights": "p-RACNN without stage 1",
    "stage2_epochs": "stage 2", "stage2_batch": "stage 2", "test_batch": "stage 2",
    "backbone_hr_epochs": "backbone_hr", "tests": "in-solver tests (stage 1 has none)",
    "test_iter_max": "in-solver tests (stage 1 has none)",
    "jpeg_quality": "the classification databases only (stage-1 patches are raw pixels)"}


def source_files(cfg):
    """{"train_val", "solver", "sr_deploy"} that stage 1 copies when they are
    files (a --nets folder holding both stage-1 files, else the committed
    ones for the standard patch and size), or None when racnn.nets
    generates them for this run (another patch or size)."""
    nets = cfg.get("nets")
    if nets:
        mine = {"train_val": os.path.join(nets, net_layout.sr_train_name(cfg["mults"])),
                "solver": os.path.join(nets, net_layout.sr_solver_name(cfg["mults"]))}
        if all(os.path.isfile(p) for p in mine.values()):     # (make_nets.py --sr-lmdb)
            return dict(mine, sr_deploy=net_layout.sr_deploy_path())
    if cfg["sr_patch"] == vocab.SR_PATCH and cfg["sr_size"] == vocab.SR_HR_SIZE:
        return {"train_val": net_layout.sr_train_path(cfg["mults"]),
                "sr_deploy": net_layout.sr_deploy_path(),
                "solver": net_layout.sr_solver_path(cfg["mults"])}
    return None


def settings(cfg):
    """What defines the stage-1 model of configuration ``cfg``."""
    out = {k: cfg.get(k, DEFAULTS[k]) for k in STAGE1_KEYS if k != "solver"}
    out["solver"] = (cfg.get("solver") or {}).get(vocab.STAGES[STAGE].solver) or {}
    if not cfg.get("sr_images"):
        out.update((k, cfg.get(k, DEFAULTS[k])) for k in DATASET_KEYS)
        if not cfg.get("split_from"):
            del out["test_fraction"]
    files = source_files(cfg)
    if files is None:
        out["sources"] = "generated by racnn.nets.build_sr_pretrain"
    else:
        missing = [p for k, p in sorted(files.items()) if k in COPIED and not os.path.isfile(p)]
        if missing:
            raise RacnnError("%s is missing; regenerate the committed nets with `make prototxts`"
                             % missing[0])
        out["sources"] = {k: sha256(p) for k, p in sorted(files.items()) if k in COPIED}
    return out


def settings_hash(cfg):
    """16 hex digits of the sha256 of ``settings(cfg)``."""
    text = json.dumps(settings(cfg), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def label(cfg):
    """The readable part of the folder name: the SR image folder's name, or
    the dataset whose training images stage 1 reads."""
    name = os.path.basename(cfg["sr_images"].rstrip(os.sep)) if cfg.get("sr_images") \
        else cfg["dataset"]
    return re.sub(r"[^A-Za-z0-9._]+", "_", name)[:40] or "images"


def folder(run_dir, cfg):
    """``<runs>/sr/<label>-<settings hash>``: the shared model of ``cfg``
    for a run folder ``run_dir`` (beside it)."""
    return os.path.join(os.path.dirname(os.path.abspath(run_dir)), SHARED_DIR,
                        "%s-%s" % (label(cfg), settings_hash(cfg)))


def lock_what(path):
    return "shared stage-1 model %s" % path


def read_record(path):
    """``shared.json`` of a shared model folder, or None (none, unreadable)."""
    try:
        with open(os.path.join(path, RECORD)) as fh:
            rec = json.load(fh)
        return rec if isinstance(rec, dict) else None
    except (OSError, ValueError):
        return None


def problems(path, settings_hash_=None):
    """Why the shared model in ``path`` may not be used ([] when it may):
    not finished, no or another record, a final model that is missing or
    whose sha256 is not the recorded one (incomplete, corrupt)."""
    try:
        done = read_done(path)
    except (OSError, ValueError):
        return ["%s/DONE is unreadable" % path]
    if done is None:
        return ["%s has not finished (no DONE with its final model)" % path]
    rec = read_record(path)
    if rec is None:
        return ["%s has no readable %s (the model was never recorded as final)" % (path, RECORD)]
    out = []
    if settings_hash_ and rec.get("settings_hash") != settings_hash_:
        out.append("%s/%s is of settings %s, not %s" % (path, RECORD, rec.get("settings_hash"),
                                                        settings_hash_))
    actual = sha256(done["final_model"])
    if actual != rec.get("model_sha256"):
        out.append("%s: sha256 %s.., recorded %s.. (incomplete or corrupt)"
                   % (done["final_model"], actual[:12], str(rec.get("model_sha256"))[:12]))
    return out


def read_setup(path):
    """The stage record ``stage.json`` of a shared model set up before (by
    another run, say, that stopped), or None."""
    try:
        with open(os.path.join(path, SETUP)) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def write_setup(path, stage_record):
    atomic.write_text(os.path.join(path, SETUP),
                      json.dumps(stage_record, indent=1, sort_keys=True) + "\n")


def write_record(path, cfg, stage_record, trained_by):
    """``shared.json`` once the model in ``path`` is final."""
    done = read_done(path)
    rec = {"settings": settings(cfg), "settings_hash": settings_hash(cfg),
           "stage": stage_record, "final_model": os.path.relpath(done["final_model"], path),
           "model_sha256": sha256(done["final_model"]), "trained_by": trained_by,
           "finished": done["finished"]}
    atomic.write_text(os.path.join(path, RECORD), json.dumps(rec, indent=1, sort_keys=True) + "\n")
    return rec


def used_entry(path, cfg):
    """``stages.stage1_sr.shared_model`` of a run that uses the model in
    ``path``: which model (folder, final model, its sha256, the settings
    hash) and which SR images (a folder, or the dataset's training images)."""
    rec = read_record(path) or {}
    return {"folder": path, "path": os.path.join(path, rec.get("final_model", "")),
            "sha256": rec.get("model_sha256"), "settings_hash": rec.get("settings_hash"),
            "sr_images": cfg.get("sr_images"), "sr_max_images": cfg.get("sr_max_images"),
            "images_from": cfg["sr_images"] if cfg.get("sr_images") else
            "the training images of %s (%s)" % (cfg["dataset"], cfg.get("data_root") or
                                                "its default folder")}
