#!/usr/bin/env python3
"""The paper's Fig. 5 from run folders: test accuracy against iteration of
CNN, g-RACNN and p-RACNN (and Staged-Training when a run has it), one
picture per dataset (make fig5 RUN=runs/...; make report draws it too).

  fig5.py runs --out runs/fig5
  fig5.py runs/birds-alexnet-r50-e2e-paper --out /tmp/fig5

Arguments are run folders or folders holding run folders.  Curves come from
racnn.eval's evaluation of each stage's snapshots when it was run
(python3 -m racnn.eval RUN --all-snapshots: mean class accuracy on the whole
test set), else from the in-solver test passes of the stage's train.log;
each network ends at its final model's mean class accuracy.  Writes
OUT/fig5_<dataset>.png and OUT/fig5_<dataset>.csv (every point drawn).
"""
import os

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn.errors import RacnnError, cli_main
from racnn.paths import RUNS_DIR
from racnn.report.fig5 import write_fig5
from racnn.rundir.reader import find_runs


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("runs", nargs="+", help="run folders or folders of runs")
    p.add_argument("--out", default=os.path.join(RUNS_DIR, "fig5"),
                   help="output folder (default: %(default)s)")
    return p.parse_args(argv)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    run_dirs = sorted({r for root in args.runs for r in find_runs(root)})
    if not run_dirs:
        raise RacnnError("no run folder (a folder with config.json) under %s"
                         % ", ".join(args.runs))
    paths = write_fig5(run_dirs, os.path.abspath(args.out))
    if not paths:
        raise RacnnError("%d run folder(s), none with a trained classification stage "
                         "(cnn, staged, racnn_g, racnn_p) that logged a test pass or was "
                         "evaluated" % len(run_dirs))
    for p in paths:
        print("written: %s" % p)
    return paths


if __name__ == "__main__":
    main()
