"""Result records placed in the paper's tables (racnn.paper: Table II,
Table III, Fig. 4), Paper | Ours | diff per cell.  A record fills a cell only
when racnn.rundir.verdict says it is comparable with the paper: every keyed
setting matches the table's definition (racnn.rundir.keying: multiplier
reading, SR weights, kernel, ImageNet backbone weights, stored size, the
release's schedule, not smoke), and its folder shows it finished, not stale,
trained from the committed unedited nets on the full official split of
photos that were not upscaled; the others are "other runs", each with
every reason that kept it out.

Seeds: matching runs of one cell with different seeds are replicates; the
cell's number is their mean, with the sample standard deviation and the
number of seeds (``seeds``, ``std``; the newest run of each seed counts).
Other matching runs (a second run of a seed already counted, records without
a seed) are shown beside it, newest first."""
import math

from .. import paper
from ..rundir.verdict import placement_reasons

#: what a cell keeps of its run's settings (results.csv's columns)
SETTING_FIELDS = ("mults", "sr_weights", "kernel", "backbone_weights", "db_size",
                  "jpeg_quality", "schedule", "g_sr_init", "stage2_length", "sr_start",
                  "sr_images", "sr_max_images", "seed")


def _pick(results, **want):
    """(newest, count, all) of the results of one cell's setting, newest
    evaluation first."""
    hits = sorted((r for r in results if all(r.get(k) == v for k, v in want.items())),
                  key=lambda r: -r["evaluated"])
    return (hits[0] if hits else None), len(hits), hits


def replicates(hits):
    """(replicates, others) of a cell's matching results (newest first): the
    newest of each seed, and the rest."""
    seen, reps, rest = set(), [], []
    for h in hits:
        (rest if h.get("seed") in seen else reps).append(h)
        seen.add(h.get("seed"))
    return reps, rest


def mean_std(values):
    """(mean, sample standard deviation or None for one value)."""
    n = len(values)
    mean = sum(values) / float(n)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return mean, std


def _cell(table, row, r, n, paper_value, reps=(), **setting):
    d = dict(table=table, row=row, paper=paper_value, ours=None, diff=None, runs=n,
             run=None, log=None, config=None, model=None, eval=None, seeds=None, std=None,
             per_seed=None)
    d.update(setting)
    if r is not None:
        d.update(ours=r["ours"], run=r["run"], log=r["log"], config=r["config"],
                 model=r["model"], eval=r["eval"], smoke=r["smoke"],
                 short_schedule=r.get("short_schedule"), sr_label=r.get("sr_label"),
                 sr_gain=r.get("sr_gain"))
        d.update({k: r.get(k) for k in SETTING_FIELDS})
        reps = list(reps)
        if len(reps) > 1:               # seeds: the mean, its spread, each seed's run
            d["ours"], d["std"] = mean_std([x["ours"] for x in reps])
            d.update(seeds=len(reps), replicates=reps,
                     short_schedule=any(x.get("short_schedule") for x in reps),
                     per_seed=";".join("%s:%.4f" % (x.get("seed"), x["ours"]) for x in reps))
        if paper_value is not None:
            d["diff"] = d["ours"] - paper_value
    return d


def paper_rows(results, reading=None):
    """(cells, used) -- cells: dicts of CSV_COLUMNS for every paper number
    (a cell that several matching runs fill lists the others in ``also``);
    used: ids of the results placed in a paper table.  Only results whose
    every setting matches the tables' definition under ``reading``
    (racnn.rundir.verdict) are placed."""
    real = [r for r in results if not placement_reasons(r, reading)]
    cells, used = [], set()

    def place(table, row, paper_value, *candidates):
        """The cell of the first candidate setting with a result (else an
        empty cell of the first); every matching run is shown."""
        hits = []
        for want in candidates:
            r, n, hits = _pick(real, **want)
            if r is not None:
                used.update(id(h) for h in hits)
                break
        else:
            want = candidates[0]
        reps, rest = replicates(hits)
        cells.append(_cell(table, row, r, n, paper_value, reps, **want))
        cells[-1]["also"] = [_cell(table, row, h, n, paper_value, **want) for h in rest]
        return cells[-1]

    for (bb, var), per_ds in paper.TABLE_II.items():
        for ds, value in per_ds.items():
            place("Table II", paper.title(bb, var), value,
                  dict(paper.TABLE_II_SETTING, backbone=bb, variant=var, dataset=ds))
    for var, per_res in paper.TABLE_III.items():
        for res, value in per_res.items():
            place("Table III", paper.title("alexnet", var), value,
                  dict(paper.TABLE_III_SETTING, variant=var, res=res))
    for var, per_ds in paper.FIG_4.items():
        for ds, value in per_ds.items():
            variants = paper.FIG_4_RACNN_VARIANTS if var == "racnn" else (var,)
            cell = place("Fig. 4", paper.title("alexnet", var), value,
                         *[dict(paper.FIG_4_SETTING, dataset=ds, variant=v) for v in variants])
            if var == "racnn" and cell["ours"] is not None:
                cell["row"] += " (ours: %s)" % paper.title("alexnet", cell["variant"])
    for c in cells:        # every setting key present, for the CSV
        for k in ("dataset", "backbone", "variant", "res", "mode"):
            c.setdefault(k, None)
    return cells, used


def other_rows(results, used):
    """Results of no paper cell (smoke runs, tiny, other settings)."""
    return [r for r in results if id(r) not in used]


def not_placed(r, reading=None):
    """Why a result is among the other runs: its mismatched settings, or the
    paper has no number for its dataset / backbone / network / r / mode."""
    return "; ".join(placement_reasons(r, reading)) or "no paper number for this setting"


