"""Which runs may fill a paper cell: every setting of the run must match the
table's definition, not only dataset, backbone, network, resolution and
mode.  A run that differs in any other setting (multiplier reading, SR
weights source, degradation kernel, initial backbone weights, stored image
size, LR images stored through a JPEG round trip, a smoke or cut-down
schedule, a custom dataset) is listed among the
other runs with the settings that kept it out, never placed in a cell.

The *reading* is the choice among the settings the paper leaves open
(``mults``, ``sr_weights``, ``kernel``); the tables are filled with one
reading, the package's defaults unless the report is asked for another, and
each table says which.
"""
import os

from .. import vocab
from .settings import DEFAULTS, backbone_defaults

#: the settings the paper leaves open, and the package's reading of each
READING_KEYS = ("mults", "sr_weights", "kernel")
DEFAULT_READING = {k: DEFAULTS[k] for k in READING_KEYS}


def reading(**overrides):
    """A reading: the defaults with ``overrides`` (None values ignored)."""
    out = dict(DEFAULT_READING)
    out.update({k: v for k, v in overrides.items() if v is not None})
    return out


def fields(cfg):
    """The setting fields of a result record, from its run's config.json."""
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
            "tf32": bool(cfg.get("tf32")), "cudnn": bool(cfg.get("cudnn"))}


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
        if key == "sr_weights" and r.get("variant") != "racnn_p":
            continue                         # only p-RACNN's SR layers come from it
        if r.get(key) is not None and r[key] != want[key]:
            out.append("%s %s (tables: %s)" % (key, r[key], want[key]))
    if r.get("backbone_weights", "imagenet") != "imagenet":
        out.append("backbone weights %s (tables: ImageNet)" % r["backbone_weights"])
    size, default_size = r.get("db_size"), backbone_defaults(r.get("backbone"))[1]
    if size is not None and size != default_size:
        out.append("db_size %s (tables: %d)" % (size, default_size))
    if r.get("jpeg_quality"):
        # the release's JPEG files, not the paper's text: a reading of its own
        out.append("LR images through JPEG q%s (tables: raw pixels)" % r["jpeg_quality"])
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
    return ("Filled only by runs with multipliers `%s`, p-RACNN SR weights `%s`, kernel `%s`, "
            "ImageNet backbone weights, images stored at %d as raw pixels (no JPEG round "
            "trip), the release's schedule (no smoke, iteration cap or subset), the "
            "official dataset's full split of photos not upscaled, the committed nets unedited, "
            "every stage finished and not stale; other runs are listed "
            "below with what kept them out." % (want["mults"], want["sr_weights"],
                                                 want["kernel"], vocab.DEFAULT_DB_SIZE))
