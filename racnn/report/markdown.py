"""The report as Markdown: the paper's tables with our numbers beside them,
the other runs with what kept them out, training time from the logs, final
model against best in-solver test pass, links to Fig. 5 and Table I.  Every
row links its train.log, config.json, model and eval folder, relative to
the report."""
import collections
import os

from .. import paper, vocab
from ..errors import RacnnError
from ..paths import RUNS_DIR
from ..rundir import keying
from .cells import not_placed


# ------------------------------------------------------------ rendering
def _rel(path, base):
    return os.path.relpath(path, base) if path else None


def _links(c, base):
    parts = [("log", c.get("log")), ("config", c.get("config")), ("model", c.get("model")),
             ("eval", c.get("eval"))]
    return " ".join("[%s](%s)" % (k, _rel(p, base)) for k, p in parts if p) or "-"


def _pct(x, signed=False):
    return "-" if x is None else ("%+.2f" if signed else "%.2f") % x


def paper_tables(cells, others, base, timing_rows=(), reading=None):
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
            "r=%s" % k if table == "Table III" else vocab.dataset_spec(k).title)
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
                    runs = [y for x in each for y in (x.get("replicates") or [x])]
                    for x in runs:
                        more = " (run %s)" % os.path.basename(x["run"]) if len(runs) > 1 else ""
                        links.append("%s: %s%s" % (k, _links(x, base), more))
            out.append("| %s | %s | %s |" % (row, " | ".join(vals), "<br>".join(links) or "-"))
        out.append("")
    if others:
        out += ["## Other runs (no paper number: other settings, the tiny backbone, smoke "
                "runs)", "", "| run | network | dataset | backbone | r | mode | mults | "
                "mean class acc. | overall | images | iteration | not in the tables because "
                "| links |", "|---" * 13 + "|"]
        for r in sorted(others, key=lambda r: (r["run"], vocab.stage_key(r["variant"]))):
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


# ------------------------------------- schedules, Fig. 5, Table I (issue 13)
SHORT_MARK = " (short)"


def _ours(c):
    """Our number of a cell: the mean ± standard deviation over its seeds
    when it has several; marked when a stage it depends on had a short
    schedule; with the images its pre-trained SR layers come from."""
    if not c or c.get("ours") is None:
        return _pct(None)
    text = _pct(c["ours"])
    if c.get("seeds"):
        text += " ± %.2f (%d seeds)" % (c["std"], c["seeds"])
    if c.get("short_schedule"):
        text += SHORT_MARK
    if c.get("sr_label"):
        text += " (%s)" % c["sr_label"]
    return text


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
           "%r in the tables above, also when the short stage is one the network starts from "
           "(stage 1 for p-RACNN, the HR stage for Staged-Training: named in brackets).  "
           "*smoke*, *iters=N*, *subset*: smoke runs, fixed iteration counts, cut-down "
           "databases; *release*: the release's schedule (stage 2: the solver's max_iter or "
           "the notebooks' 1M iterations, `stage2_length`).  *SR front*: the PSNR of the "
           "network's SR layers (after stage 2) over bicubic, on a few of the dataset's test "
           "images (racnn.report.srview)." % SHORT_MARK.strip(), "",
           "| run | network | final model (iteration) | best in-solver test (iteration) "
           "| schedule | SR front over bicubic | links |", "|---" * 7 + "|"]
    for r in sorted(results, key=lambda r: (r["run"], vocab.stage_key(r["variant"]))):
        best = r.get("best_test")
        label = keying.schedule_label(r)
        upstream = [s for s in r.get("short_stages") or () if s != r["variant"]]
        if upstream:
            label += " (%s)" % ", ".join(upstream)
        out.append("| %s%s | %s | %.2f (%s) | %s | %s | %s | %s |" % (
            os.path.basename(r["run"]), " (smoke)" if r["smoke"] else "",
            _network(r), r["ours"],
            r["iteration"], "%.2f (%d)" % best if best else "-",
            label, sr_text(r), _links(r, base)))
    return "\n".join(out) + "\n"


def sr_text(r):
    """A record's SR-front PSNR gain over bicubic, or why there is none."""
    if r.get("variant") not in vocab.SR_STAGES:
        return "-"
    if r.get("sr_gain") is None:
        return "not measured: %s" % (r.get("sr_note") or "?")
    return "%+.2f dB (%d images)" % (r["sr_gain"], r["sr_images_measured"])


def _network(r):
    try:
        return paper.title(r["backbone"], r["variant"])
    except RacnnError:          # a run of a backbone racnn.vocab does not know
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
