"""Results beside the paper, built from run folders.

``collect(run_dirs)`` reads each run's ``config.json`` and the
``<stage>/eval/metrics.json`` of its classification stages (cnn, racnn_g,
racnn_p) into result records.  ``paper_rows(results)`` places them in the
paper's tables (racnn.paper: Table II, Table III, Fig. 4) with Paper | Ours |
diff per cell.  A run fills a cell only when every setting matches the
table's definition (racnn.report.keying: multiplier reading, SR weights,
kernel, ImageNet backbone weights, stored size, the release's schedule, not
smoke); the others (other settings, the tiny backbone, smoke runs, custom
datasets) go to "other runs" with what kept them out.  When several matching
runs fill one cell, all are shown, newest first.
``write_report(run_dirs, out_dir)`` writes ``report.md``, ``results.csv``
(one line per cell and run, with every setting), ``timing_from_logs.csv`` and
``paper_vs_ours.png``; every row links its train.log, config.json, model and
eval folder (paths relative to the report).
"""
import collections
import json
import os

from .. import atomic, paper, specs
from ..errors import RacnnError
from ..experiment.config import VARIANTS
from ..experiment.stage_files import LOG
from .. import plots
from ..eval.outputs import csv_field
from ..experiment import runfolder
from . import fig5, keying, timing
from ..paths import RUNS_DIR

CSV_COLUMNS = ("table", "row", "dataset", "backbone", "variant", "res", "mode", "paper",
               "ours", "diff", "runs", "run", "log", "config", "model", "eval", "mults",
               "sr_weights", "kernel", "backbone_weights", "db_size", "jpeg_quality", "schedule",
               "not_placed")


def find_runs(root):
    """Every run folder (a folder with config.json) under ``root``, sorted."""
    if not os.path.isdir(root):
        raise RacnnError("%s: no such folder of runs" % root)
    found = []
    for dirpath, dirnames, files in os.walk(root):
        if "config.json" in files:
            found.append(dirpath)
            dirnames[:] = []
        else:
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
    return sorted(found)


def collect(run_dirs):
    """Result records, one per evaluated classification stage."""
    out = []
    for rd in run_dirs:
        run = runfolder.read_run(rd)
        cfg = run.config
        for st in run.stages:
            mpath = os.path.join(runfolder.eval_dir(run, st), "metrics.json")
            if st.name not in VARIANTS or not os.path.isfile(mpath):
                continue
            with open(mpath) as fh:
                m = json.load(fh)
            log = os.path.join(st.dir, LOG)
            out.append({
                "dataset": cfg.get("dataset"), "backbone": cfg.get("backbone"),
                "variant": st.name, "res": cfg.get("res"), "mode": cfg.get("mode"),
                "mults": cfg.get("mults"), "sr_weights": cfg.get("sr_weights"),
                "smoke": bool(cfg.get("smoke")), "ours": 100.0 * m["mean_class_accuracy"],
                "overall": 100.0 * m["overall_accuracy"], "num_images": m["num_images"],
                "iteration": m.get("iteration"), "run": run.dir,
                "config": os.path.join(run.dir, "config.json"),
                "log": log if os.path.isfile(log) else None,
                "model": m.get("snapshot"), "eval": os.path.dirname(mpath),
                "evaluated": os.path.getmtime(mpath)})
            out[-1].update(schedule_fields(cfg, st.name, log))
            out[-1].update(keying.fields(cfg))
    return out


def _pick(results, **want):
    """(newest, count, all) of the results of one cell's setting, newest
    evaluation first."""
    hits = sorted((r for r in results if all(r.get(k) == v for k, v in want.items())),
                  key=lambda r: -r["evaluated"])
    return (hits[0] if hits else None), len(hits), hits


def _cell(table, row, r, n, paper_value, **setting):
    d = dict(table=table, row=row, paper=paper_value, ours=None, diff=None, runs=n,
             run=None, log=None, config=None, model=None, eval=None)
    d.update(setting)
    if r is not None:
        d.update(ours=r["ours"], run=r["run"], log=r["log"], config=r["config"],
                 model=r["model"], eval=r["eval"], smoke=r["smoke"],
                 short_schedule=r.get("short_schedule"))
        d.update({k: r.get(k) for k in ("mults", "sr_weights", "kernel", "backbone_weights",
                                        "db_size", "jpeg_quality", "schedule")})
        if paper_value is not None:
            d["diff"] = r["ours"] - paper_value
    return d


def paper_rows(results, reading=None):
    """(cells, used) -- cells: dicts of CSV_COLUMNS for every paper number
    (a cell that several matching runs fill lists the others in ``also``);
    used: ids of the results placed in a paper table.  Only results whose
    every setting matches the tables' definition under ``reading``
    (racnn.report.keying) are placed."""
    real = [r for r in results if not keying.mismatches(r, reading)]
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
        cells.append(_cell(table, row, r, n, paper_value, **want))
        cells[-1]["also"] = [_cell(table, row, h, n, paper_value, **want) for h in hits[1:]]
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


# ------------------------------------------------------------ rendering
def _rel(path, base):
    return os.path.relpath(path, base) if path else None


def _links(c, base):
    parts = [("log", c.get("log")), ("config", c.get("config")), ("model", c.get("model")),
             ("eval", c.get("eval"))]
    return " ".join("[%s](%s)" % (k, _rel(p, base)) for k, p in parts if p) or "-"


def _pct(x, signed=False):
    return "-" if x is None else ("%+.2f" if signed else "%.2f") % x


def markdown(cells, others, base, timing_rows=(), reading=None):
    """The report as Markdown; links relative to ``base``."""
    out = ["# Results beside the paper", "",
           "Mean per-class accuracy (%) on the test set, exact single pass "
           "(tools/eval_per_class.py).  *diff* = ours - paper.  Empty cells: no run yet "
           "(`make <dataset>-<backbone> MODE=... RES=...`).", ""]
    tables = collections.OrderedDict()
    for c in cells:
        tables.setdefault(c["table"], []).append(c)
    settings = {"Table II": "r = 50, frozen classifier",
                "Table III": "Birds, AlexNet, frozen; columns are resolutions",
                "Fig. 4": "r = 50, end to end, AlexNet; " + paper.FIG_4_SOURCE}
    for table, tcells in tables.items():
        cols = list(collections.OrderedDict(
            (c["res"] if table == "Table III" else c["dataset"], 1) for c in tcells))
        head = " | ".join("%s paper | ours | diff" % (
            "r=%s" % k if table == "Table III" else specs.dataset_spec(k).title)
            for k in cols)
        out += ["## %s (%s)" % (table, settings[table]), "", keying.describe(reading), "",
                "| model | %s | links |" % head, "|---" * (2 + 3 * len(cols)) + "|"]
        rows = collections.OrderedDict()
        for c in tcells:
            rows.setdefault(c["row"], {})[c["res"] if table == "Table III" else
                                          c["dataset"]] = c
        for row, by in rows.items():
            vals, links = [], []
            for k in cols:
                c = by.get(k)
                each = [c] + c.get("also", []) if c else [None]     # two runs: both shown
                vals += [_pct(c and c["paper"]), " / ".join(_ours(x) for x in each),
                         " / ".join(_pct(x and x["diff"], True) for x in each)]
                if c and c["ours"] is not None:
                    for x in each:
                        more = " (run %s)" % os.path.basename(x["run"]) if len(each) > 1 else ""
                        links.append("%s: %s%s" % (k, _links(x, base), more))
            out.append("| %s | %s | %s |" % (row, " | ".join(vals), "<br>".join(links) or "-"))
        out.append("")
    if others:
        out += ["## Other runs (no paper number: other settings, the tiny backbone, smoke "
                "runs)", "", "| run | network | dataset | backbone | r | mode | mults | "
                "mean class acc. | overall | images | iteration | not in the tables because "
                "| links |", "|---" * 13 + "|"]
        for r in sorted(others, key=lambda r: (r["run"], VARIANTS.index(r["variant"]))):
            out.append("| %s%s | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %d | %s | %s | %s |"
                       % (os.path.basename(r["run"]), " (smoke)" if r["smoke"] else "",
                          r["variant"], r["dataset"], r["backbone"], r["res"], r["mode"],
                          r["mults"], r["ours"], r["overall"], r["num_images"], r["iteration"],
                          not_placed(r, reading), _links(r, base)))
        out.append("")
    if timing_rows:
        out += ["## Training time per epoch from the logs (Table I: GTX-980 seconds)", "",
                "| run | network | s/iteration | batch | images | s/epoch | RACNN/CNN "
                "| paper s/epoch | paper RACNN/CNN |", "|---" * 9 + "|"]
        cnn = {t["log"].rsplit(os.sep, 2)[0]: t["seconds_per_epoch"] for t in timing_rows
               if t["variant"] == "cnn"}
        for t in timing_rows:
            p = paper.TABLE_I.get((t["backbone"], t["racnn"]), {}).get(t["dataset"])
            base = cnn.get(t["log"].rsplit(os.sep, 2)[0])
            ratio = t["seconds_per_epoch"] / base if base and t["racnn"] else None
            pratio = (paper.table_i_ratio(t["backbone"], t["dataset"])
                      if t["racnn"] and p is not None else None)
            out.append("| %s | %s | %.3f | %d | %d | %.1f | %s | %s | %s |" % (
                os.path.basename(os.path.dirname(os.path.dirname(t["log"]))), t["variant"],
                t["seconds_per_iteration"], t["batch_size"], t["images"],
                t["seconds_per_epoch"], _pct(ratio), "-" if p is None else p, _pct(pratio)))
        out.append("")
    return "\n".join(out)


def not_placed(r, reading=None):
    """Why a result is among the other runs: its mismatched settings, or the
    paper has no number for its dataset / backbone / network / r / mode."""
    return "; ".join(keying.mismatches(r, reading)) or "no paper number for this setting"


def write_csv(cells, others, path, reading=None):
    with atomic.atomic_file(path) as fh:
        fh.write(",".join(CSV_COLUMNS) + "\n")
        rows = [x for c in cells for x in [c] + c.get("also", [])] + [
            dict(r, table="other", row=r["variant"], paper=None, diff=None, runs=1,
                 not_placed=not_placed(r, reading)) for r in others]
        for c in rows:
            fh.write(",".join(_csv(c.get(k)) for k in CSV_COLUMNS) + "\n")
    return path


def _csv(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return "%.4f" % v
    return csv_field(v)


def write_report(run_dirs, out_dir, reading=None):
    """Write the report of ``run_dirs`` into ``out_dir``; returns its paths.
    ``reading``: the settings the paper leaves open (racnn.report.keying)."""
    results = collect(run_dirs)
    cells, used = paper_rows(results, reading)
    others = other_rows(results, used)
    trows = []
    for rd in run_dirs:
        trows += timing.from_run(rd)
    os.makedirs(out_dir, exist_ok=True)
    md_path = os.path.join(out_dir, "report.md")
    png = plots.paper_vs_ours([x for c in cells for x in [c] + c.get("also", [])
                               if x["ours"] is not None],
                              os.path.join(out_dir, "paper_vs_ours.png"))
    text = markdown(cells, others, out_dir, trows, reading)
    if png:
        text += "\n![paper vs ours](paper_vs_ours.png)\n"
    text += schedule_section(results, out_dir)
    figures = fig5.write_fig5(run_dirs, out_dir)
    text += fig5_section(figures, out_dir) + table_i_section(out_dir)
    atomic.write_text(md_path, text)
    paths = [md_path, write_csv(cells, others, os.path.join(out_dir, "results.csv"), reading)]
    if trows:
        paths.append(timing.write_log_rows(trows, os.path.join(out_dir,
                                                               "timing_from_logs.csv")))
    return paths + ([png] if png else []) + figures, results


# ------------------------------------- schedules, Fig. 5, Table I (issue 13)
SHORT_MARK = " (short)"


def schedule_fields(cfg, stage, log):
    """``short_schedule`` (the driver's flag in config.json: fewer iterations
    than the release with the release's learning rate) and ``best_test``
    ((accuracy %, iteration) of the best in-solver test pass, or None)."""
    rec = (cfg.get("stages") or {}).get(stage) or {}
    best = fig5.best_in_solver(log) if log else None
    return {"short_schedule": bool(rec.get("short_schedule")),
            "best_test": (100.0 * best[0], best[1]) if best else None}


def _ours(c):
    """Our number of a cell, marked when its run's schedule was short."""
    text = _pct(c and c["ours"])
    return text + SHORT_MARK if c and c.get("short_schedule") else text


def schedule_section(results, base):
    """Markdown: each evaluated network's final-model accuracy (the tables'
    number) beside its best in-solver test accuracy and that iteration, and
    whether its schedule was short."""
    if not results:
        return ""
    out = ["", "## Final model vs best in-solver test pass", "",
           "*final model*: mean class accuracy of the last snapshot on the whole test set "
           "(the number in the tables above).  *best in-solver test*: the highest accuracy "
           "of Caffe's in-solver test passes (its Accuracy layer: overall accuracy over "
           "`test_iter` batches) and its iteration.  The paper does not say which of the two "
           "it reports.  *short*: fewer iterations than the release's schedule with the "
           "release's learning rate (tuned for 700k iterations): the new layers are "
           "under-trained and the number is not comparable with the paper's; rows marked "
           "%r in the tables above." % SHORT_MARK.strip(), "",
           "| run | network | final model (iteration) | best in-solver test (iteration) "
           "| schedule | links |", "|---" * 6 + "|"]
    for r in sorted(results, key=lambda r: (r["run"], VARIANTS.index(r["variant"]))):
        best = r.get("best_test")
        out.append("| %s%s | %s | %.2f (%s) | %s | %s | %s |" % (
            os.path.basename(r["run"]), " (smoke)" if r["smoke"] else "",
            _network(r), r["ours"],
            r["iteration"], "%.2f (%d)" % best if best else "-",
            "short" if r.get("short_schedule") else "release", _links(r, base)))
    return "\n".join(out) + "\n"


def _network(r):
    try:
        return paper.title(r["backbone"], r["variant"])
    except RacnnError:          # a run of a backbone racnn.specs does not know
        return r["variant"]


def fig5_section(figures, base):
    """Markdown linking the Fig. 5 pictures and their data."""
    pngs = [p for p in figures if p.endswith(".png")]
    if not pngs:
        return ""
    out = ["", "## Fig. 5: test accuracy against iteration", "",
           "Curves from each stage's snapshot evaluations when racnn.eval ran on them, else "
           "from the in-solver test passes of its train.log (labelled in the legend); the "
           "last point of each network is its final model's mean class accuracy.  The "
           "paper's Fig. 5 shows Birds.", ""]
    for p in pngs:
        rel = _rel(p, base)
        out.append("![%s](%s) ([data](%s))" % (os.path.basename(p)[:-4], rel,
                                              rel[:-4] + ".csv"))
    return "\n".join(out) + "\n"


def table_i_section(out_dir):
    """Markdown linking Table I (`make timing`: runs/timing/timing.md) when it
    exists beside the report, else saying how to make it."""
    for folder in (os.path.join(os.path.dirname(out_dir), "timing"),
                   os.path.join(RUNS_DIR, "timing")):
        path = os.path.join(folder, "timing.md")
        if os.path.isfile(path):
            return ("\n## Table I: training time per epoch\n\n`caffe time` on this machine "
                    "beside the paper's GTX-980 seconds, with the RACNN/CNN ratios: [%s](%s)\n"
                    % (_rel(path, out_dir), _rel(path, out_dir)))
    return ("\n## Table I: training time per epoch\n\nNot measured yet: `make timing` "
            "writes runs/timing/timing.md (`caffe time` per backbone beside the paper's "
            "Table I).\n")
