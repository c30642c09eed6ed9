"""Writing a report of run folders (tools/report.py, ``make report``):
``write_report(run_dirs, out_dir)`` writes ``report.md``, ``results.csv``
(one line per cell and run, with every setting), ``timing_from_logs.csv``,
``paper_vs_ours.png`` and Fig. 5 (racnn.report.fig5), with the paper's
claims checked (racnn.report.claims) and each RACNN's SR front measured
(racnn.report.srview; kept in ``sr_psnr.json``)."""
import os

from .. import atomic, plots
from ..eval.outputs import csv_field
from ..rundir.reader import load_config
from . import claims, fig5, markdown, srview, table_i
from .cells import SETTING_FIELDS, not_placed, other_rows, paper_rows
from .collect import collect

CSV_COLUMNS = ("table", "row", "dataset", "backbone", "variant", "res", "mode", "paper",
               "ours", "diff", "std", "seeds", "per_seed", "runs", "run", "log", "config",
               "model", "eval") + SETTING_FIELDS + ("short_schedule", "sr_gain", "not_placed")


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
    ``reading``: the settings the paper leaves open (racnn.rundir.keying)."""
    results = collect(run_dirs)
    os.makedirs(out_dir, exist_ok=True)
    configs = {run: load_config(run) or {} for run in {r["run"] for r in results}}
    srview.add_gains(results, configs, os.path.join(out_dir, "sr_psnr.json"))
    cells, used = paper_rows(results, reading)
    others = other_rows(results, used)
    trows = []
    for rd in run_dirs:
        trows += table_i.from_run(rd)
    md_path = os.path.join(out_dir, "report.md")
    png = plots.paper_vs_ours([x for c in cells for x in [c] + c.get("also", [])
                               if x["ours"] is not None],
                              os.path.join(out_dir, "paper_vs_ours.png"))
    text = markdown.paper_tables(cells, others, out_dir, trows, reading)
    if png:
        text += "\n![paper vs ours](paper_vs_ours.png)\n"
    text += claims.section(cells, results, used)
    text += markdown.schedule_section(results, out_dir)
    figures = fig5.write_fig5(run_dirs, out_dir)
    text += markdown.fig5_section(figures, out_dir) + markdown.table_i_section(out_dir)
    atomic.write_text(md_path, text)
    paths = [md_path, write_csv(cells, others, os.path.join(out_dir, "results.csv"), reading)]
    if trows:
        paths.append(table_i.write_log_rows(trows, os.path.join(out_dir,
                                                                "timing_from_logs.csv")))
    return paths + ([png] if png else []) + figures, results


