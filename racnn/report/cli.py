"""Results tables beside the paper (Table II, Table III, Fig. 4) from run
folders: Markdown and CSV with Paper | Ours | diff, each row linking its
log, configuration, model and evaluation.

  report.py runs --out runs/report          (make report)
  report.py runs/cars-alexnet-r50-frozen-paper --out /tmp/one

Arguments are run folders or folders holding run folders.  A run fills a
paper cell only when every setting matches the table's definition (the
reading --mults/--sr-weights/--kernel/--g-sr-init/--stage2-length, ImageNet
backbone weights, the release's schedule, not smoke); the others are listed
with what kept them out.  Runs of several seeds fill a cell with their mean
and standard deviation; the paper's claims are checked on those.  Runs are read, never changed: evaluate them first (tools/eval_per_class.py RUN; the
experiment tool does this after training).
"""
import os
import sys

from ..cli import tool_parser
from ..errors import cli_main
from ..paths import RUNS_DIR
from .. import vocab
from ..rundir import keying
from ..rundir.reader import find_runs
from .write import write_report


def parse_args(argv, prog=None):
    p = tool_parser(__doc__, prog)
    p.add_argument("runs", nargs="*", default=[RUNS_DIR],
                   help="run folders or folders of runs (default: %(default)s)")
    p.add_argument("--out", default=os.path.join(RUNS_DIR, "report"),
                   help="output folder (default: %(default)s)")
    # the settings the paper leaves open: the tables are filled with one reading
    p.add_argument("--mults", choices=vocab.READINGS,
                   help="multiplier reading of the runs placed in the tables (default: %s)"
                   % keying.DEFAULT_READING["mults"])
    p.add_argument("--sr-weights", choices=vocab.SR_WEIGHTS,
                   help="p-RACNN SR weights of the runs placed in the tables (default: %s)"
                   % keying.DEFAULT_READING["sr_weights"])
    p.add_argument("--kernel", choices=vocab.KERNELS,
                   help="degradation kernel of the runs placed in the tables (default: %s)"
                   % keying.DEFAULT_READING["kernel"])
    p.add_argument("--g-sr-init", choices=vocab.G_SR_INITS,
                   help="where g-RACNN's SR layers start in the runs placed in the tables "
                   "(default: the multiplier reading's: %s)" % ", ".join(
                       "%s %s" % (k, v["g_sr_init"]) for k, v in vocab.READING_DEFAULTS.items()))
    p.add_argument("--stage2-length", choices=vocab.STAGE2_LENGTHS,
                   help="stage 2's release schedule of the runs placed in the tables (default: "
                   "the multiplier reading's: %s)" % ", ".join(
                       "%s %s" % (k, v["stage2_length"])
                       for k, v in vocab.READING_DEFAULTS.items()))
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
    reading = keying.reading(**{k: getattr(args, k) for k in keying.READING_KEYS})
    paths, results = write_report(sorted(set(run_dirs)), out, reading)
    print("%d run folder(s), %d evaluated network(s)" % (len(set(run_dirs)), len(results)))
    if not results:
        print("note: no <stage>/eval/metrics.json found; run tools/eval_per_class.py on the "
              "runs first", file=sys.stderr)
    for p in paths:
        print("written: %s" % p)
    return paths
