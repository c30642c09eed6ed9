#!/usr/bin/env python3
"""Training time per epoch of each backbone with and without the SR front,
measured with `caffe time` on this machine, beside the paper's Table I.

  time_nets.py [--backbones alexnet vgg16 googlenet] [--mode frozen]
               [--iterations 5] [--gpu 0] [--runs runs] [--out runs/timing]

Stage 1's net (SR pre-training on 51x51 patch pairs, batch 32) is timed too
(its entry in timing.json has "stage": "stage1_sr"): the sweep's cost
estimate (tools/sweep.py plan NAME --cost --timing OUT/timing.json) reads
seconds per iteration of every stage from this file.

Writes OUT/timing.json (raw `caffe time` averages), OUT/timing.md and
OUT/timing.csv (seconds per epoch: ours | paper, RACNN/CNN ratios), and, with
--runs, OUT/from_logs.csv (seconds per epoch read from the train.log of each
run's stages).  The paper measured on one GTX-980; on a CPU the absolute
numbers differ by orders of magnitude, the ratio is the comparable figure.
"""
import json
import os

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn import atomic, vocab
from racnn.report import caffe_time, table_i
from racnn.errors import cli_main
from racnn.nets import presets
from racnn.paths import RUNS_DIR
from racnn.progress import progress


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("--backbones", nargs="+", default=list(vocab.PAPER_BACKBONES),
                   help="backbones to time (default: %(default)s; tiny is the CPU demo's)")
    p.add_argument("--mode", default="frozen", choices=presets.MODES,
                   help="multiplier setting (default frozen: the release, Table II)")
    p.add_argument("--mults", default="paper", choices=presets.MULTS)
    p.add_argument("--iterations", type=int, default=5, help="caffe time -iterations")
    p.add_argument("--batch-size", type=int, help="training batch (default: the "
                   "release's, racnn.nets.DEFAULT_BATCH)")
    p.add_argument("--gpu", help="GPU id (default: CPU)")
    p.add_argument("--runs", help="also read seconds per epoch from the logs of the run "
                   "folders under this folder")
    p.add_argument("--out", default=os.path.join(RUNS_DIR, "timing"),
                   help="output folder (default: %(default)s)")
    return p.parse_args(argv)


def log_rows(runs_root):
    from racnn.rundir.reader import find_runs
    rows = []
    for run in find_runs(runs_root):
        rows += table_i.from_run(run)
    return rows


@cli_main
def main(argv=None):
    args = parse_args(argv)
    backbones = table_i.check_backbones(args.backbones)
    jobs = [(b, r) for b in backbones for r in (False, True)]
    measured = {}
    for b, r in progress(jobs, total=len(jobs), desc="caffe time", unit="net"):
        measured[(b, r)] = caffe_time.time_net(b, r, args.mode, args.mults, args.batch_size,
                                           args.iterations, args.gpu)
    stage1 = caffe_time.time_stage1(args.mults, iterations=args.iterations, gpu=args.gpu)
    rows = table_i.table_rows(measured)
    device = next(iter(measured.values()))["device"]
    note = ("Ours: `caffe time` (%d iterations, forward + backward, %s mode, %s) on this "
            "machine's %s; paper: one GTX-980.  Seconds per epoch = ms per iteration x "
            "ceil(training images / batch).  Batch sizes: %s." % (
                args.iterations, args.mode, args.mults, device,
                ", ".join("%s %d" % (b, measured[(b, False)]["batch_size"]) for b in backbones)))
    md = table_i.markdown(rows, note)
    md += ("\nStage 1 (SR pre-training, batch %d of %dx%d patch pairs): %.1f ms per iteration "
           "(%s)\n" % (stage1["batch_size"], stage1["patch"], stage1["patch"],
                        stage1["forward_backward_ms"], stage1["device"]))
    from_logs = log_rows(args.runs) if args.runs else []
    with atomic.atomic_dir(args.out, overwrite=True) as tmp:
        with open(os.path.join(tmp, "timing.json"), "w") as fh:
            json.dump([dict(m) for m in measured.values()] + [stage1], fh, indent=1)
        with open(os.path.join(tmp, "timing.md"), "w") as fh:
            fh.write("# Training time per epoch (Table I)\n\n" + md)
        cols = ["dataset", "backbone", "ours_cnn", "ours_racnn", "ours_ratio", "paper_cnn",
                "paper_racnn", "paper_ratio"]
        with open(os.path.join(tmp, "timing.csv"), "w") as fh:
            fh.write(",".join(cols) + "\n")
            for r in rows:
                fh.write(",".join("" if r[c] is None else str(r[c]) if isinstance(r[c], str)
                                  else "%.4g" % r[c] for c in cols) + "\n")
        if from_logs:
            table_i.write_log_rows(from_logs, os.path.join(tmp, "from_logs.csv"))
    print(md)
    print("written: %s" % args.out)
    return rows, measured


if __name__ == "__main__":
    main()
