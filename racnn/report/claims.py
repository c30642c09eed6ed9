"""The paper's claims, checked on our numbers rather than cell by cell:
each claim's verdict -- holds, does not hold, or not enough runs -- with the
numbers it rests on, from the cells racnn.report.cells placed (only runs
comparable with the paper) and, for the SR layers, the PSNR of each placed
RACNN's SR front (racnn.report.srview).

* **Table III**: RACNN's gain over the CNN is large at 25x25 and small at
  100x100 (the paper: p-RACNN +13.48 and +1.87 points, g-RACNN +12.10 and
  +0.23).  Checked per RACNN: our gain at the lowest resolution exceeds our
  gain at the highest.
* **p-RACNN > g-RACNN > CNN**, consistently: in every setting of Tables II
  and III where all three networks have runs.
* **The SR layers recover details**: the SR front of each placed RACNN,
  after stage 2, raises PSNR over the bicubic LR-upscaled image.

The rule (``greater``): "A exceeds B" holds when the difference of the
means exceeds ``MARGIN`` standard errors of that difference (from the
seeds' sample standard deviations: SE = sqrt(sA^2/nA + sB^2/nB)), and does
not hold otherwise; a cell with fewer than ``MIN_SEEDS`` seeds cannot say it
(one seed has no spread): not enough runs.  The SR claim's spread is over
the measured images, pooled over the placed runs.
"""
import collections
import math

from .. import paper, vocab
from .cells import mean_std

HOLDS, FAILS, TOO_FEW = "holds", "does not hold", "not enough runs"
#: standard errors a difference must exceed
MARGIN = 2.0
#: seeds a cell needs before a claim may rest on it
MIN_SEEDS = 2

Claim = collections.namedtuple("Claim", "title verdict summary lines")
Estimate = collections.namedtuple("Estimate", "mean se n")


def estimate(cell):
    """Estimate of a filled cell: its mean, the standard error of the mean
    (None with one seed) and its number of seeds; None for an empty cell."""
    if not cell or cell.get("ours") is None:
        return None
    n = cell.get("seeds") or 1
    se = cell["std"] / math.sqrt(n) if n > 1 and cell.get("std") is not None else None
    return Estimate(cell["ours"], se, n)


def difference(a, b):
    """Estimate of ``a - b`` (Estimates; None when either is missing)."""
    if a is None or b is None:
        return None
    se = None if a.se is None or b.se is None else math.sqrt(a.se ** 2 + b.se ** 2)
    return Estimate(a.mean - b.mean, se, min(a.n, b.n))


def greater(d):
    """Verdict of "the difference ``d`` is positive" (see the module's rule)."""
    if d is None or d.n < MIN_SEEDS or d.se is None:
        return TOO_FEW
    return HOLDS if d.mean > MARGIN * d.se else FAILS


def _fmt(e):
    if e is None:
        return "-"
    return "%+.2f" % e.mean + (" ± %.2f (SE, %d seeds)" % (e.se, e.n) if e.se is not None
                               else " (1 seed)")


def _combine(verdicts):
    """One verdict of several settings: does not hold when one fails, holds
    when one holds (and none fails; the others are named), else not enough
    runs."""
    if FAILS in verdicts:
        return FAILS
    return HOLDS if HOLDS in verdicts else TOO_FEW


def _by(cells, table, *keys):
    return {tuple(c.get(k) for k in keys): c for c in cells if c["table"] == table}


def table_iii_claims(cells):
    """Table III: the gain of each RACNN over the CNN per resolution, ours
    beside the paper's, and whether it shrinks from the lowest resolution to
    the highest."""
    t3 = _by(cells, "Table III", "variant", "res")
    resolutions = sorted({r for per in paper.TABLE_III.values() for r in per})
    low, high = resolutions[0], resolutions[-1]
    out = []
    for var in [v for v in paper.TABLE_III if vocab.STAGES[v].sr_init]:
        gains, lines = {}, ["| r | paper: %s - CNN | ours | ours: %s, CNN |"
                            % (paper.title("alexnet", var), paper.title("alexnet", var)),
                            "|---|---|---|---|"]
        for res in resolutions:
            p = paper.TABLE_III[var][res] - paper.TABLE_III["cnn"][res]
            mine, cnn = t3.get((var, res)), t3.get(("cnn", res))
            gains[res] = difference(estimate(mine), estimate(cnn))
            lines.append("| %d | %+.2f | %s | %s, %s |" % (
                res, p, _fmt(gains[res]), _fmt(estimate(mine)).lstrip("+"),
                _fmt(estimate(cnn)).lstrip("+")))
        shrink = difference(gains[low], gains[high])
        verdict = greater(shrink)
        out.append(Claim(
            "Table III: %s's gain over the CNN is large at %dx%d and small at %dx%d"
            % (paper.title("alexnet", var), low, low, high, high), verdict,
            "paper: %+.2f at r=%d, %+.2f at r=%d; ours: %s at r=%d, %s at r=%d; gain at r=%d "
            "minus gain at r=%d: %s" % (
                paper.TABLE_III[var][low] - paper.TABLE_III["cnn"][low], low,
                paper.TABLE_III[var][high] - paper.TABLE_III["cnn"][high], high,
                _fmt(gains[low]), low, _fmt(gains[high]), high, low, high, _fmt(shrink)),
            lines))
    return out


def ordering_claim(cells):
    """p-RACNN > g-RACNN > CNN in every setting (Table II's cells, Table
    III's resolutions; Table III's r = 50 is Table II's Birds AlexNet)."""
    settings = collections.OrderedDict()
    for c in cells:
        if c["table"] in ("Table II", "Table III") and c["variant"] in paper.TABLE_III:
            key = (c.get("dataset") or paper.TABLE_III_SETTING["dataset"],
                   c.get("backbone") or paper.TABLE_III_SETTING["backbone"], c["res"])
            settings.setdefault(key, {})[c["variant"]] = c
    order = list(paper.TABLE_III)           # cnn, racnn_g, racnn_p
    lines = ["| setting | g-RACNN - CNN | p-RACNN - g-RACNN | verdict |", "|---|---|---|---|"]
    verdicts = []
    for (ds, bb, res), by in sorted(settings.items(), key=lambda kv: (
            list(vocab.DATASETS).index(kv[0][0]), vocab.PAPER_BACKBONES.index(kv[0][1]),
            kv[0][2])):
        est = [estimate(by.get(v)) for v in order]
        if all(e is None for e in est):
            continue
        steps = [difference(est[i + 1], est[i]) for i in range(len(order) - 1)]
        each = [greater(d) for d in steps]
        v = FAILS if FAILS in each else TOO_FEW if TOO_FEW in each else HOLDS
        verdicts.append(v)
        lines.append("| %s %s r=%s | %s | %s | %s |" % (
            vocab.dataset_spec(ds).title, vocab.backbone_spec(bb).title, res,
            _fmt(steps[0]), _fmt(steps[1]), v))
    verdict = _combine(verdicts)
    counted = collections.Counter(verdicts)
    summary = ("%d setting(s) with runs: %s" % (len(verdicts), ", ".join(
        "%d %s" % (n, v) for v, n in counted.items())) if verdicts else
        "no setting of Table II or III has runs")
    return Claim("p-RACNN > g-RACNN > CNN, consistently (Tables II and III)", verdict,
                 summary, lines if verdicts else [])


def sr_claims(results, used):
    """The SR layers recover details: per RACNN network, the PSNR gain over
    bicubic of the SR fronts of the runs placed in the tables, pooled over
    their measured images."""
    out = []
    for var in vocab.SR_STAGES:
        placed = [r for r in results if id(r) in used and r["variant"] == var]
        gains = [g for r in placed for g in r.get("sr_gains") or ()]
        runs = [r for r in placed if r.get("sr_gains")]
        title = "%s's SR layers recover details (PSNR over bicubic after stage 2)" % (
            vocab.VARIANTS[var].short)
        if len(gains) < 2:
            out.append(Claim(title, TOO_FEW, "%d placed run(s), %d measured image(s)%s" % (
                len(placed), len(gains), "; not measured: " + "; ".join(
                    sorted({r["sr_note"] for r in placed if r.get("sr_note")}))
                if any(r.get("sr_note") for r in placed) else ""), []))
            continue
        mean, sd = mean_std(gains)
        e = Estimate(mean, sd / math.sqrt(len(gains)), len(gains))
        out.append(Claim(title, greater(e),
                         "%+.2f dB ± %.2f (SE) over %d images of %d run(s)"
                         % (e.mean, e.se, len(gains), len(runs)), []))
    return out


def claims(cells, results, used):
    """Every claim, in the order of the report."""
    return table_iii_claims(cells) + [ordering_claim(cells)] + sr_claims(results, used)


def section(cells, results, used):
    """Markdown: each claim, its verdict and its numbers."""
    out = ["", "## The paper's claims", "",
           "Each claim checked on our numbers (the runs placed in the tables above).  A claim "
           "that one value exceeds another holds when the difference of the means exceeds "
           "%g standard errors of the difference (from the seeds' standard deviations); "
           "cells need at least %d seeds (`make ... SEEDS=1,2,3`), else: not enough runs.  "
           "The SR claim's spread is over the measured test images." % (MARGIN, MIN_SEEDS),
           ""]
    for c in claims(cells, results, used):
        out += ["### %s" % c.title, "", "**%s**: %s" % (c.verdict, c.summary), ""]
        if c.lines:
            out += c.lines + [""]
    return "\n".join(out)
