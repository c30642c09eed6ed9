#!/usr/bin/env python3
"""The whole RACNN pipeline on an embedded synthetic dataset, on the CPU,
without any download (make demo; make demo SMOKE=1 for a quick check).

  1. a seeded synthetic fine-grained dataset (racnn.datasets.synthetic):
     classes differ only in a fine texture that low resolution blurs away;
  2. databases: training/test images degraded to r x r and back, the same
     images undegraded, and SR patches (LR, HR) of the training images;
  3. backbone_hr: the tiny CNN trained on the undegraded images, the
     stand-in for ImageNet pre-training (it initialises stage 2 through the
     audited weight loading, like the BVLC models do for the paper's nets);
  4. stage 1: SR pre-training on the patches;
  5. stage 2: CNN, g-RACNN and p-RACNN on the degraded images;
  6. tools/eval_per_class.py on each final model, and a per-class table.

Re-running resumes (finished stages are skipped).  Data goes to
data/synthetic[-smoke], the run folder to runs/synthetic-tiny-...
"""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("GLOG_minloglevel", "2")     # quiet pycaffe in this process

import csv  # noqa: E402
import time  # noqa: E402

from racnn.cli import tool_parser  # noqa: E402
from racnn import atomic
from racnn.experiment import config as experiment
from racnn.datasets import synthetic  # noqa: E402
from racnn.errors import RacnnError, cli_main  # noqa: E402
from racnn.paths import DATA_DIR  # noqa: E402
from racnn.progress import progress  # noqa: E402
from racnn.experiment import driver

#: the demo's dataset (8 classes: 4 texture patterns x 2 periods)
DATASET = dict(num_classes=8, train_per_class=60, test_per_class=30, seed=0)
DATASET_SMOKE = dict(num_classes=4, train_per_class=6, test_per_class=4, seed=0)

#: the demo's experiment: tiny backbone (input 64, images stored at 72),
#: r = 16 (72 -> 16 -> 72 is the paper's 227 -> 50 -> 227 factor), the Table II
#: setting (frozen backbone, the release's multipliers), SR patches 24x24 at
#: stride 12 from 200 training images, and CPU-sized schedules.  The solvers
#: differ from the release where minutes replace days: Adam for stage 1 and
#: stage 2 (the release's SGD at 2e-9 / 1e-6 needs its 15M / 700k
#: iterations), SGD at 1e-3 with gradients clipped to norm 10 for backbone_hr
#: (trained from scratch on raw 0..255 pixels, unclipped it can die at the start).
CONFIG = dict(res=16, db_size=72, sr_size=72, sr_res=16, sr_patch=24, sr_stride=12,
              sr_max_images=200, mode="frozen", mults="release",
              backbone_hr_epochs=40, stage1_epochs=5, stage2_epochs=8,
              stage1_batch=32, stage2_batch=32, test_batch=48, snapshots=4, tests=4,
              solver={"backbone_hr": {"base_lr": 0.001, "momentum": 0.9, "clip_gradients": 10},
                      "stage1": {"type": "Adam", "base_lr": 3e-4, "lr_policy": "fixed",
                                 "momentum": 0.9, "momentum2": 0.999},
                      "stage2": {"type": "Adam", "base_lr": 0.001, "momentum": 0.9,
                                 "momentum2": 0.999}})
COLUMNS = (("backbone_hr", "HR images (backbone)"), ("cnn", "CNN"),
           ("racnn_g", "g-RACNN"), ("racnn_p", "p-RACNN"))


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("--smoke", action="store_true",
                   help="a handful of images and iterations: a quick end-to-end check")
    p.add_argument("--data-dir", help="where the synthetic dataset goes "
                   "(default: data/synthetic[-smoke])")
    p.add_argument("--run-dir", help="run folder (default: runs/<name>)")
    p.add_argument("--gpu", help="Caffe's --gpu (default: CPU)")
    p.add_argument("--verbose", action="store_true", help="echo Caffe's output")
    return p.parse_args(argv)


def demo_config(data_dir, smoke=False, gpu=None):
    """The demo's resolved configuration (racnn.experiment.config)."""
    kw = dict(CONFIG, data_format="folder", data_root=data_dir, gpu=gpu)
    if smoke:       # the smoke settings of racnn.experiment.config win over the demo's schedule
        kw = {k: v for k, v in kw.items() if k not in experiment.SMOKE}
    return experiment.make_config("synthetic", "tiny", smoke=smoke, **kw)


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
        "**%s**" % pct(record["results"][n]["mean_class_accuracy"]) for n, _ in cols) + " |")
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


@cli_main
def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    data_dir = os.path.abspath(args.data_dir or os.path.join(
        DATA_DIR, "synthetic-smoke" if args.smoke else "synthetic"))
    params = DATASET_SMOKE if args.smoke else DATASET
    info = synthetic.generate(data_dir, progress=progress, **params)
    print("[demo] synthetic dataset: %s (%d classes, %d training + %d test images)"
          % (data_dir, info["num_classes"], info["train_count"], info["test_count"]),
          flush=True)
    cfg = demo_config(data_dir, smoke=args.smoke, gpu=args.gpu)
    run_dir = args.run_dir or experiment.default_run_dir(cfg)
    record = driver.run(cfg, run_dir, echo=args.verbose)
    if not record.get("results"):
        raise RacnnError("the demo produced no evaluation (see %s)" % run_dir)
    md, md_path = per_class_table(run_dir, record)
    print("\nPer-class accuracy (%%) on the %d test images, degraded to %dx%d "
          "(HR column: undegraded):\n" % (info["test_count"], cfg["res"], cfg["res"]))
    print(md)
    print("\n".join(driver.summary_lines(record)))
    print("per-class table: %s" % md_path)
    print("demo finished in %.0f s" % (time.time() - t0))
    return record


if __name__ == "__main__":
    main()
