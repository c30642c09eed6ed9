"""The demo: the whole pipeline on an embedded synthetic dataset on the CPU
(tools/demo.py, ``make demo``): its configuration, the run, and a per-class
table of every network.  It sits on top of the package (it runs
racnn.pipeline and reads racnn.eval's files)."""
import csv
import os

from .. import atomic, pipeline, vocab
from ..datasets import synthetic
from ..errors import RacnnError
from ..paths import DATA_DIR
from ..rundir import settings as run_settings
from .settings import CONFIG, DATASET, DATASET_SMOKE

#: the per-class table's columns: the HR backbone, then every variant (its
#: last stage's results), with racnn.vocab's titles
COLUMNS = (("backbone_hr", vocab.STAGES["backbone_hr"].title),) + tuple(
    (v.stages[-1], v.short) for v in vocab.VARIANTS.values())


def demo_config(data_dir, smoke=False, gpu=None):
    """The demo's resolved configuration (racnn.rundir.settings)."""
    kw = dict(CONFIG, data_format="folder", data_root=data_dir, gpu=gpu)
    if smoke:       # the smoke settings of racnn.rundir.settings win over the demo's schedule
        kw = {k: v for k, v in kw.items() if k not in run_settings.SMOKE}
    return run_settings.make_config("synthetic", "tiny", smoke=smoke, **kw)


def per_class_table(run_dir, record):
    """Markdown + CSV: accuracy per class for each network (from each
    stage's eval/per_class.csv written by tools/eval_per_class.py)."""
    cols = [(name, title) for name, title in COLUMNS if name in record["results"]]
    table = {}
    names = {}
    for name, _ in cols:
        path = os.path.join(record["results"][name]["eval_dir"], "per_class.csv")
        with open(path) as fh:
            for row in csv.DictReader(fh):
                cls = int(row["class"])
                names[cls] = row["name"]
                table.setdefault(cls, {})[name] = (float(row["accuracy"]) if row["accuracy"]
                                                   else None)

    def pct(v):
        return "  n/a" if v is None else "%5.1f" % (100 * v)
    head = "| class | " + " | ".join(t for _, t in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 1)]
    for cls in sorted(table):
        lines.append("| %d %s | " % (cls, names[cls]) + " | ".join(
            pct(table[cls].get(n)) for n, _ in cols) + " |")
    lines.append("| **mean class accuracy** | " + " | ".join(
        # no space inside the asterisks: Markdown does not render "** 25.0**" as bold
        "**%s**" % pct(record["results"][n]["mean_class_accuracy"]).strip()
        for n, _ in cols) + " |")
    md = "\n".join(lines) + "\n"
    out = os.path.join(run_dir, "report")
    os.makedirs(out, exist_ok=True)
    atomic.write_text(os.path.join(out, "per_class.md"), md)
    with atomic.atomic_file(os.path.join(out, "per_class.csv")) as fh:
        w = csv.writer(fh)
        w.writerow(["class", "name"] + [n for n, _ in cols])
        for cls in sorted(table):
            w.writerow([cls, names[cls]] + ["" if table[cls].get(n) is None else
                                            "%.4f" % table[cls][n] for n, _ in cols])
    return md, os.path.join(out, "per_class.md")


def run_demo(smoke=False, data_dir=None, run_dir=None, gpu=None, echo=False, progress=None):
    """Generate the dataset (once), run (or resume) the experiment and write
    the per-class table; returns (dataset info, configuration, record,
    per-class Markdown, its path)."""
    data_dir = os.path.abspath(data_dir or os.path.join(
        DATA_DIR, "synthetic-smoke" if smoke else "synthetic"))
    info = synthetic.generate(data_dir, progress=progress, **(DATASET_SMOKE if smoke else DATASET))
    info["data_dir"] = data_dir
    print("[demo] synthetic dataset: %s (%d classes, %d training + %d test images)"
          % (data_dir, info["num_classes"], info["train_count"], info["test_count"]),
          flush=True)
    cfg = demo_config(data_dir, smoke=smoke, gpu=gpu)
    run_dir = run_dir or run_settings.default_run_dir(cfg)
    record = pipeline.run(cfg, run_dir, echo=echo)
    if not record.get("results"):
        raise RacnnError("the demo produced no evaluation (see %s)" % run_dir)
    md, md_path = per_class_table(run_dir, record)
    return info, cfg, record, md, md_path
