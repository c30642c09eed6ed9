"""Which runs may fill a paper cell: every setting of the run must match the
table's definition, not only dataset, backbone, network, resolution and
mode.  A run that differs in any other setting (multiplier reading, SR
weights source, degradation kernel, initial backbone weights, stored image
size, LR images stored through a JPEG round trip, a smoke or cut-down
schedule, a custom dataset) is listed among the
other runs with the settings that kept it out, never placed in a cell.

The *reading* is the choice among the settings the paper leaves open
(``mults``, ``sr_weights``, ``kernel``, and the two that follow the
multiplier reading unless set: where g-RACNN's SR layers start,
``g_sr_init``, and stage 2's length, ``stage2_length``); the tables are
filled with one reading, the package's defaults unless the report is asked
for another, and each table says which.

Which images stage 1 pre-trained on (``sr_images``, ``sr_max_images``)
keeps no run out of a cell: every cell whose SR layers started from
pre-trained weights says which (``sr_label``), since the paper's are the
ILSVRC-2015 DET test images and the package's default is the target
dataset's own training images.
"""
import os

from .. import vocab
from .settings import DEFAULTS, as_written, backbone_defaults, sr_start

#: the settings the paper leaves open, and the package's reading of each
READING_KEYS = ("mults", "sr_weights", "kernel", "g_sr_init", "stage2_length")
#: the reading keys whose default is the multiplier reading's (racnn.vocab)
FOLLOW_MULTS = tuple(k for k in READING_KEYS if k in vocab.READING_DEFAULTS[DEFAULTS["mults"]])
DEFAULT_READING = dict({k: DEFAULTS[k] for k in READING_KEYS},
                       **vocab.READING_DEFAULTS[DEFAULTS["mults"]])


def reading(**overrides):
    """A reading: the defaults with ``overrides`` (None values ignored); the
    keys that follow the multiplier reading take its values unless given."""
    out = dict(DEFAULT_READING)
    out.update({k: v for k, v in overrides.items() if v is not None})
    out.update({k: vocab.READING_DEFAULTS[out["mults"]][k] for k in FOLLOW_MULTS
                if overrides.get(k) is None})
    return out


def sr_label(r):
    """Where a result's pre-trained SR layers come from, in a few words
    (its ``sr_images`` / ``sr_max_images`` fields), or None when its SR
    layers started from the fillers or it has none."""
    if r.get("sr_start") != "pretrained":
        return None
    if r.get("sr_weights") == "authors":
        return "SR: the authors' weights"
    images = r.get("sr_images") or "own training images"
    count = r.get("sr_max_images")
    return "SR: %s x%s" % (images, "all" if count is None else count)


def fields(cfg, stage=None):
    """The setting fields of a result record of ``stage``, from its run's
    config.json (keys an older version did not write: what it ran)."""
    cfg = as_written(cfg)
    rec = (cfg.get("stages") or {}).get(stage) or {}
    shared = ((cfg.get("stages") or {}).get("stage1_sr") or {}).get("shared_model") or {}
    images = shared.get("sr_images", cfg.get("sr_images"))
    bw = cfg.get("backbone_weights")
    size = cfg.get("db_size")
    default_size = backbone_defaults(cfg.get("backbone"))[1]
    if cfg.get("smoke"):
        schedule = "smoke"
    elif cfg.get("iters"):
        schedule = "iters=%s" % cfg["iters"]
    elif cfg.get("train_limit") or cfg.get("test_limit"):
        schedule = "subset %sx%s" % (cfg.get("train_limit") or "all",
                                     cfg.get("test_limit") or "all")
    else:
        schedule = "full"
    return {"kernel": cfg.get("kernel", vocab.DEFAULT_KERNEL),
            "backbone_weights": "imagenet" if bw is None else (
                bw if bw in ("hr", "none") else os.path.basename(bw)),
            "db_size": default_size if size is None else size, "schedule": schedule,
            "jpeg_quality": cfg.get("jpeg_quality"), "custom": bool(cfg.get("data_format")),
            "tf32": bool(cfg.get("tf32")), "cudnn": bool(cfg.get("cudnn")),
            "seed": cfg.get("seed"), "g_sr_init": cfg.get("g_sr_init"),
            "stage2_length": cfg.get("stage2_length"),
            # what the stage's audit started from (older records: the configuration's)
            "sr_start": rec.get("sr_start") or (sr_start(cfg, stage) if stage else None),
            "sr_weights": cfg.get("sr_weights"),
            # stage 1's images: the shared model's record, else the configuration's
            "sr_images": os.path.basename(os.path.normpath(images)) if images else None,
            "sr_max_images": shared.get("sr_max_images", cfg.get("sr_max_images"))}


def schedule_label(r):
    """One word for a result's schedule, the same in every table: ``smoke``,
    ``iters=N`` or ``subset AxB`` (fields' ``schedule``), else ``short``
    (fewer iterations than the release's with its learning rate) or
    ``release``."""
    schedule = r.get("schedule") or "full"
    if r.get("smoke"):
        return "smoke"
    if schedule != "full":
        return schedule
    return "short" if r.get("short_schedule") else "release"


def mismatches(r, want=None):
    """Why result ``r`` may not fill a paper cell under reading ``want``:
    a list of ``setting value (tables: value)``; empty when it may.  Keys a
    record lacks (or holds as null) count as the tables' value: records made
by hand, config.json files of older runs."""
    want = want or DEFAULT_READING
    out = []
    for key in READING_KEYS:
        if key == "sr_weights" and r.get("sr_start", "pretrained" if r.get("variant") ==
                                          "racnn_p" else None) != "pretrained":
            continue                         # only pre-trained SR layers come from it
        if key == "g_sr_init" and r.get("variant") != "racnn_g":
            continue                         # where g-RACNN's SR layers start
        if r.get(key) is not None and r[key] != want[key]:
            out.append("%s %s (tables: %s)" % (key, r[key], want[key]))
    if r.get("backbone_weights", "imagenet") != "imagenet":
        out.append("backbone weights %s (tables: ImageNet)" % r["backbone_weights"])
    size, default_size = r.get("db_size"), backbone_defaults(r.get("backbone"))[1]
    if size is not None and size != default_size:
        out.append("db_size %s (tables: %d)" % (size, default_size))
    if r.get("jpeg_quality"):
        # the release's JPEG files, not the paper's text: a reading of its own
        out.append("images through JPEG q%s (tables: raw pixels)" % r["jpeg_quality"])
    if r.get("tf32"):
        # 10-bit-mantissa products on tensor cores: faster, not the paper's arithmetic
        out.append("TF32 tensor cores (tables: exact FP32)")
    if r.get("smoke"):
        out.append("smoke run")
    elif r.get("schedule", "full") != "full":
        out.append("schedule %s (tables: the release's)" % r["schedule"])
    if r.get("custom"):
        out.append("custom dataset")
    return out


def describe(want=None):
    """One line: what every filled cell's run had."""
    want = want or DEFAULT_READING
    return ("Filled only by runs with multipliers `%s`, p-RACNN SR weights `%s`, g-RACNN's SR "
            "layers from %s, kernel `%s`, ImageNet backbone weights, images stored at %d as "
            "raw pixels (no JPEG round trip), the release's schedule with stage 2 %s (no "
            "smoke, iteration cap or subset), the official dataset's full split of photos not "
            "upscaled, the committed nets unedited, every stage finished and not stale; other "
            "runs are listed below with what kept them out.  Cells with pre-trained SR layers "
            "say which images stage 1 trained on (`SR: <images> x<count>`; the paper's: the "
            "11,142 ILSVRC-2015 DET test images, the release's script 500 of them; `own "
            "training images`: the target dataset's, not a transfer from other images)."
            % (want["mults"], want["sr_weights"],
               "the Gaussian fillers" if want["g_sr_init"] == "gaussian" else
               "the pre-trained SR weights (the release's notebooks)",
               want["kernel"], vocab.DEFAULT_DB_SIZE,
               "of the released solver's max_iter (700k at batch 8)"
               if want["stage2_length"] == "solver" else
               "of the released notebooks' 1,000,000 iterations"))
