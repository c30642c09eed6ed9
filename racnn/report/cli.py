"""Results tables beside the paper (Table II, Table III, Fig. 4) from run
folders: Markdown and CSV with Paper | Ours | diff, each row linking its
log, configuration, model and evaluation.

  report.py runs --out runs/report          (make report)
  report.py runs/cars-alexnet-r50-frozen-paper --out /tmp/one

Arguments are run folders or folders holding run folders.  Runs are read,
never changed: evaluate them first (tools/eval_per_class.py RUN; the
experiment driver does this after training).
"""
import os
import sys

from ..cli import tool_parser
from ..errors import cli_main
from ..paths import RUNS_DIR
from .tables import find_runs, write_report


def parse_args(argv, prog=None):
    p = tool_parser(__doc__, prog)
    p.add_argument("runs", nargs="*", default=[RUNS_DIR],
                   help="run folders or folders of runs (default: %(default)s)")
    p.add_argument("--out", default=os.path.join(RUNS_DIR, "report"),
                   help="output folder (default: %(default)s)")
    return p.parse_args(argv)


@cli_main
def main(argv=None, prog=None):
    args = parse_args(argv, prog)
    out = os.path.abspath(args.out)
    run_dirs = []
    for root in args.runs:
        if not os.path.isdir(root):     # a fresh clone: the paper's numbers, no runs yet
            print("note: %s does not exist; the report has the paper's numbers only"
                  % root, file=sys.stderr)
            continue
        run_dirs += [r for r in find_runs(root)
                     if not os.path.abspath(r).startswith(out + os.sep)]
    paths, results = write_report(sorted(set(run_dirs)), out)
    print("%d run folder(s), %d evaluated network(s)" % (len(set(run_dirs)), len(results)))
    if not results:
        print("note: no <stage>/eval/metrics.json found; run tools/eval_per_class.py on the "
              "runs first", file=sys.stderr)
    for p in paths:
        print("written: %s" % p)
    return paths
