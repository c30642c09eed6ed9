"""Sweeps of experiments: the paper's grids (or any product of settings) as
a plan of runs, each exactly tools/experiment.py in its own run folder, and
as a graph of jobs: one per stage of each run (--only-stage), one per shared
stage-1 model (one per distinct stage-1 setting), one report at the end;
run here in dependency order or submitted to Slurm as jobs joined by
dependencies (--jobs run: one array task per run instead).

  sweep.py plan table2 --dry-run                 print the plan, write nothing
  sweep.py plan table2 --cost                    jobs, GPU-hours, critical path, --time
  sweep.py plan table2 --cost --json --timing runs/timing/timing.json
  sweep.py run demo                              the jobs in dependency order, here
  sweep.py submit table2 --partition gpu --gres gpu:1
  sweep.py status table2                         each job: finished / running / queued / ...
  sweep.py report table2                         Table II/III, Fig. 4 from the sweep's runs
  sweep.py run mine --dataset cars,birds --backbone alexnet --res 25,50 --mode frozen

Named sweeps: table2 (3 datasets x 3 backbones, frozen, r = 50), table3 (Birds,
AlexNet, frozen, r = 25/50/100), fig4 (Cars, Birds, AlexNet, end to end, r = 50),
all, demo (synthetic data, tiny backbone, --smoke; minutes on a CPU).  Any
other name needs --dataset and --backbone (comma lists, as every setting
option).  The plan is written to runs/sweeps/<name>/plan.json before anything
starts; running or submitting the sweep again skips finished jobs, resumes
interrupted ones, and submits only the jobs that are not finished, running
or queued (cancelling those a failed dependency left pending for ever).  A
job's output is beside its run folder: <run folder>.<stage>.sweep.log
(local), <run folder>.<stage>.slurm-<job>.out (Slurm),
<run folder>.slurm-<job>_<task>.out (--jobs run).  The cost (--cost)
comes from seconds per iteration measured by make timing
(runs/timing/timing.json), or by the GPU bundle's run-check on the target
GPU (--timing DIR/verdict.json), else from the paper's Table I divided by
--speedup; submit sets each job's --time from it unless --time is given.
"""
import argparse
import json
import os
import subprocess
import sys

from ..cli import tool_parser
from ..errors import RacnnError, cli_main
from ..paths import REPO, RUNS_DIR
from ..rundir import settings
from ..rundir.keying import READING_KEYS
from . import backend as backend_mod
from . import cost as cost_mod
from . import grids, jobs as jobs_mod, local, plan as plan_mod, slurm
from . import status as st

PRODUCT = (("dataset", str), ("backbone", str), ("res", int), ("mode", str), ("mults", str),
           ("sr_weights", str), ("variants", None))


def parse_args(argv, prog=None):
    p = tool_parser(__doc__, prog)
    p.add_argument("command", choices=("plan", "run", "submit", "status", "report", "prepare",
                                       "task", "job"),
                   help="plan | run | submit (= run --scheduler slurm) | status | report "
                   "(prepare, job, task: what run and the Slurm jobs call)")
    p.add_argument("sweep", help="a named sweep (%s), a new name with --dataset/--backbone, "
                   "or a sweep folder" % ", ".join(grids.GRIDS))
    p.add_argument("index", nargs="?", help=argparse.SUPPRESS)
    p.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    c = p.add_argument_group("cost (plan --cost; submit)")
    c.add_argument("--cost", action="store_true",
                   help="plan: each job's iterations, epochs, GPU-hours and --time, the total "
                   "and the critical path")
    c.add_argument("--json", action="store_true", help="the cost as JSON (with --cost)")
    c.add_argument("--timing", help="seconds per iteration measured on the target: make "
                   "timing's timing.json or the GPU bundle's run-check verdict.json (or their "
                   "folder); default: %s when it exists, else the paper's Table I"
                   % cost_mod.DEFAULT_TIMING)
    c.add_argument("--speedup", type=float, default=1.0,
                   help="without a timing file: the target GPU's speed over the paper's "
                   "GTX 980 (default: %(default)s)")
    g = p.add_argument_group("the grid (a product of settings; comma-separated lists)")
    for key, _ in PRODUCT:
        g.add_argument("--" + key.replace("_", "-"), dest=key,
                       help="variants: '+'-separated sets, e.g. cnn+racnn_p,racnn_g"
                       if key == "variants" else None)
    g.add_argument("--smoke", action="store_true", help="every run with --smoke")
    g.add_argument("--seeds", metavar="N[,N...]",
                   help="every run once per seed, a run folder each (-seed<N>): the report "
                   "gives each cell the seeds' mean and standard deviation (make ... "
                   "SEEDS=1,2,3)")
    g.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                   help="a configuration key for every run (VALUE as JSON); repeatable")
    p.add_argument("--sweeps-dir", default=os.path.join(RUNS_DIR, "sweeps"),
                   help="where sweep folders go (default: %(default)s)")
    p.add_argument("--runs-dir", default=None,
                   help="where run folders go (default: %s)" % RUNS_DIR)
    p.add_argument("--scheduler", choices=("local", "slurm"), default="local")
    p.add_argument("--backend", "--entry", dest="backend", choices=backend_mod.BACKENDS,
                   default="auto",
                   help="how commands enter the Caffe environment, as docker/run's "
                   "RACNN_BACKEND (default: %(default)s, docker/run; --entry: its old name)")
    p.add_argument("--sif", help="the Apptainer image of --backend apptainer")
    p.add_argument("--env", "--variant-env", dest="env", choices=("cpu", "gpu"),
                   help="RACNN_ENV for docker/run: which Caffe build (gpu: the CUDA one; "
                   "--variant-env: its old name)")
    p.add_argument("--gpu", help="Caffe's --gpu for every run (default: CPU; with "
                   "--gres gpu:N under Slurm: the task's N GPUs)")
    p.add_argument("--no-prepare", action="store_true",
                   help="do not build the shared inputs first (each run builds what it needs)")
    p.add_argument("--only", help="prepare: comma-separated run indices")
    p.add_argument("--slurm-job", help=argparse.SUPPRESS)     # job, task: from the sbatch script
    s = p.add_argument_group("Slurm (--scheduler slurm)")
    s.add_argument("--jobs", choices=("stage", "run"), default="stage",
                   help="stage (default): one job per stage of the graph, joined by "
                   "dependencies; run: one array task per run, its stages in sequence")
    for key, _ in slurm.KNOBS:
        s.add_argument("--" + key.replace("_", "-"), dest=key)
    s.add_argument("--sbatch-arg", action="append", default=[], metavar="ARG",
                   help="an extra sbatch option, e.g. --sbatch-arg=--qos=long; repeatable")
    return p.parse_args(argv)


def _list(text, kind):
    items = [x.strip() for x in text.split(",") if x.strip()]
    if kind is None:
        return [[v for v in x.split("+") if v] for x in items]
    try:
        return [kind(x) for x in items]
    except ValueError:
        raise RacnnError("%r: expected a comma-separated list of numbers" % text)


def points(args):
    """The grid of the command line: a named sweep, or the product."""
    from_product = any(getattr(args, k) for k, _ in PRODUCT)
    sets = {}
    for item in args.set:
        key, eq, value = item.partition("=")
        if not eq:
            raise RacnnError("--set %r: expected KEY=VALUE" % item)
        try:
            sets[key.strip()] = json.loads(value)
        except ValueError:
            sets[key.strip()] = value
    if not from_product:
        pts = grids.grid(args.sweep)
        source = "grid %s" % args.sweep
    else:
        if not (args.dataset and args.backbone):
            raise RacnnError("a sweep of settings needs --dataset and --backbone")
        lists = {k: _list(getattr(args, k), kind) for k, kind in PRODUCT[2:]
                 if getattr(args, k)}
        pts = grids.product(_list(args.dataset, str), _list(args.backbone, str),
                            smoke=args.smoke, **lists)
        source = "product " + " ".join("--%s %s" % (k, getattr(args, k)) for k, _ in PRODUCT
                                       if getattr(args, k))
    for p in pts:
        p["settings"].update(sets)
        p["smoke"] = p["smoke"] or args.smoke
    if sets:
        source += " " + " ".join("--set %s" % s for s in args.set)
    if args.seeds:          # replicates of every point (after --set: a seed there is replaced)
        seeds = settings.parse_seeds(args.seeds)
        pts = grids.with_seeds(pts, seeds)
        source += " --seeds %s" % ",".join(str(x) for x in seeds)
    return pts, source


def _is_folder(name):
    return os.sep in name or os.path.isfile(os.path.join(name, plan_mod.PLAN))


def load(args, write=True):
    """(plan, folder): the plan of a sweep folder, or the plan of the named
    grid / product, written into its folder (checked against one there)."""
    if _is_folder(args.sweep):
        folder = os.path.abspath(args.sweep)
        plan = plan_mod.read(folder)
    else:
        folder = plan_mod.sweep_dir(args.sweep, args.sweeps_dir)
        if os.path.isfile(os.path.join(folder, plan_mod.PLAN)) and not any(
                getattr(args, k) for k, _ in PRODUCT) and not args.set and \
                not args.seeds and args.sweep not in grids.GRIDS:
            plan = plan_mod.read(folder)
        else:
            pts, source = points(args)
            runs = plan_mod.expand(pts, args.runs_dir)
            if not write:
                return {"sweep": args.sweep, "source": source, "repository": REPO,
                        "runs": runs}, folder
            plan = plan_mod.write(folder, args.sweep, runs, source)
    plan["_folder"] = folder
    return plan, folder


def _prefix(args):
    return backend_mod.prefix(args.backend, args.sif, args.env)


def _gpus(args):
    """GPUs per job (--gres gpu:N under Slurm; else 1)."""
    count = (args.gres or "").rsplit(":", 1)[-1]     # gpu:2, gpu:a100:2 -> 2
    return int(count) if args.scheduler == "slurm" and count.isdigit() else 1


def _gpu(args):
    """Caffe's --gpu: the one asked for, else under Slurm with --gres the
    job's GPUs 0..N-1."""
    if args.gpu or args.scheduler != "slurm" or not args.gres:
        return args.gpu
    return ",".join(str(i) for i in range(_gpus(args)))


def _prepare(args, plan, folder, runs):
    """``tools/sweep.py prepare`` through the backend; the indices it could
    prepare."""
    if args.no_prepare:
        return [r["index"] for r in runs]
    argv = _prefix(args) + ["python3", "tools/sweep.py", "prepare", folder,
                            "--only", ",".join(str(r["index"]) for r in runs)]
    print("[sweep] preparing the shared inputs of %d run(s)" % len(runs), flush=True)
    rc = subprocess.call(argv, cwd=REPO)
    if rc != 0:
        raise RacnnError("preparing the sweep's inputs failed (exit %d): %s"
                         % (rc, " ".join(argv)))
    done = plan_mod.read_prepared(folder)
    return [i for i, err in done.items() if err is None]


def _cost(args, plan, job_list):
    return cost_mod.estimate(plan, job_list, cost_mod.load_timing(args.timing, args.speedup),
                             _gpus(args))


@cli_main
def main(argv=None, prog=None):
    args = parse_args(argv, prog)
    if args.command == "submit":
        args.scheduler = "slurm"
    if args.command in ("task", "prepare", "job"):
        return _inside(args)
    if args.command == "plan" or args.dry_run:
        plan, folder = load(args, write=not args.dry_run)
        job_list = jobs_mod.build(plan, folder)
        if args.cost and args.json:
            print(json.dumps(_cost(args, plan, job_list), indent=1))
            return 0
        if args.dry_run:
            print(json.dumps(dict({k: v for k, v in plan.items() if k != "_folder"},
                                  jobs=job_list), indent=1))
        print("\n".join(plan_mod.describe(plan) + jobs_mod.describe(job_list)))
        if args.cost:
            print("\n".join(cost_mod.table(_cost(args, plan, job_list))))
        if not args.dry_run:
            print("plan: %s" % os.path.join(folder, plan_mod.PLAN))
        return 0
    plan, folder = load(args)
    job_list = jobs_mod.build(plan, folder)
    print("sweep folder: %s" % folder)
    if args.command == "status":
        return _status(plan, folder, job_list)
    if args.command == "report":
        return _report(args, plan, folder)
    runs = {r["name"]: r for r in plan["runs"]}
    if args.scheduler == "local":
        st.refuse_other_settings(plan["runs"])
        todo = _todo_runs(plan, job_list, lambda j: st.job_state(j, runs)[0] not in (
            st.FINISHED, st.RUNNING))
        ready = set(_prepare(args, plan, folder, todo)) if todo else set()
        blocked = [j for j in job_list if j["index"] is not None and j["index"] not in ready
                   and j["index"] in {r["index"] for r in todo}]
        rows = local.run_all(plan, [j for j in job_list if j not in blocked], _prefix(args),
                             _gpu(args))
        rows += [(j["name"], local.SKIPPED, "its run's inputs could not be prepared", None)
                 for j in blocked]
        print("\n".join(st.table(rows)))
        return 1 if any(r[1] in (local.FAILED, local.SKIPPED) for r in rows) else 0
    if args.jobs == "run":
        return _submit_array(args, plan, folder, job_list)
    return _submit_graph(args, plan, folder, job_list)


def _todo_runs(plan, job_list, pending):
    """The runs with a job for which ``pending(job)`` holds, in plan order."""
    indices = {j["index"] for j in job_list if j["index"] is not None and pending(j)}
    return [r for r in plan["runs"] if r["index"] in indices]


def _status(plan, folder, job_list):
    runs = {r["name"]: r for r in plan["runs"]}
    subs = slurm.read_jobs(folder)
    if subs and "tasks" in subs[-1]:            # --jobs run: the array's tasks
        print("\n".join(st.table(slurm.states(plan))))
        return 0
    if subs:
        rows = slurm.graph_states(plan, job_list)
    else:
        report_done = os.path.isfile(os.path.join(folder, "report", "report.md"))
        rows = [(j["name"],) + st.job_state(j, runs, report_done) +
                (_local_log(j),) for j in job_list]
    print("\n".join(st.table(rows)))
    return 0


def _report(args, plan, folder):
    out = os.path.join(folder, "report")
    other = [r for r in plan["runs"] if st.other_settings(r)]
    for r in other:
        print("not in the sweep's report: %s was made with other settings (%s)"
              % (r["run_dir"], "; ".join(st.other_settings(r))), file=sys.stderr)
    started = [r["run_dir"] for r in plan["runs"]
               if os.path.isdir(r["run_dir"]) and r not in other]
    if not started:       # (racnn.report without runs would read every run of runs/)
        raise RacnnError("no run of sweep %s has a run folder yet (tools/sweep.py status "
                         "%s)" % (plan["sweep"], folder))
    argv = _prefix(args) + ["python3", "-m", "racnn.report", "--out", out] + \
        _reading(plan) + started
    return subprocess.call(argv, cwd=REPO)


def _ready(args, plan, folder, todo):
    """The runs of ``todo`` whose inputs could be prepared (named when not)."""
    ready = set(_prepare(args, plan, folder, todo))
    skipped = [r for r in todo if r["index"] not in ready]
    if skipped:
        print("not submitted (inputs failed, see above): %s"
              % ", ".join(r["name"] for r in skipped))
    if not ready:
        raise RacnnError("no run of the sweep could be prepared; nothing submitted")
    return ready


def _knobs(args):
    return {k: getattr(args, k) for k, _ in slurm.KNOBS}


def _submit_array(args, plan, folder, job_list):
    queued = slurm.queue(plan)
    st.refuse_other_settings(plan["runs"])
    todo = [r for r in plan["runs"]
            if st.state(r, queued=set(queued))[0] in (st.INCOMPLETE, st.NOT_STARTED)]
    if not todo:
        print("nothing to submit: every run is finished, running or queued "
              "(tools/sweep.py status %s)" % args.sweep)
        return 0
    ready = _ready(args, plan, folder, todo)
    todo = [r for r in todo if r["index"] in ready]
    knobs = _knobs(args)
    if not knobs["time"]:                     # the longest run's stages in sequence
        cost = _cost(args, plan, job_list)
        hours = [sum(row["hours"] or 0 for row in cost["jobs"] if row["run"] == r["name"])
                 for r in todo]
        knobs["time"] = cost_mod.slurm_time(max(hours)) if any(hours) else None
    job = slurm.submit(plan, folder, todo, knobs, args.sbatch_arg, _prefix(args), _gpu(args))
    print("submitted job %s: %d task(s) (%s)" % (job, len(todo),
                                                 ",".join(str(r["index"]) for r in todo)))
    print("watch: python3 tools/sweep.py status %s" % folder)
    return 0


def _submit_graph(args, plan, folder, job_list):
    runs = {r["name"]: r for r in plan["runs"]}
    st.refuse_other_settings(plan["runs"])
    rows = {r[0]: r for r in slurm.graph_states(plan, job_list)}
    todo = _todo_runs(plan, job_list, lambda j: rows[j["name"]][1] not in (
        st.FINISHED, st.RUNNING, st.QUEUED))
    if not todo:
        print("nothing to submit: every job is finished, running or queued "
              "(tools/sweep.py status %s)" % args.sweep)
        return 0
    ready = _ready(args, plan, folder, todo)
    job_list = [j for j in job_list if j["index"] is None or j["index"] in ready or
                j["stage"] == jobs_mod.STAGE1 and any(
                    runs[n]["index"] in ready for n in j["runs"])]
    # the cost of what is sent: neither finished, nor running, nor queued
    cost = _cost(args, plan, [j for j in job_list if j["stage"] == jobs_mod.REPORT or rows[
        j["name"]][1] not in (st.FINISHED, st.RUNNING, st.QUEUED)])
    print("\n".join(cost_mod.table(cost)))
    times = {row["name"]: row["time"] for row in cost["jobs"]}
    new = slurm.submit_graph(plan, folder, job_list, _knobs(args), args.sbatch_arg,
                             _prefix(args), _gpu(args), times)
    if not new:
        print("nothing to submit: every job is finished, running or queued "
              "(tools/sweep.py status %s)" % args.sweep)
        return 0
    ids = [int(i) for i in new.values() if i.isdigit()]
    print("submitted %d job(s) (%s; report: %s)" % (
        len(new), "%d-%d" % (min(ids), max(ids)) if ids else ", ".join(new.values()),
        new.get(jobs_mod.REPORT)))
    print("watch: python3 tools/sweep.py status %s" % folder)
    return 0


def _reading(plan):
    """The report's reading of the settings the paper leaves open
    (racnn.rundir.keying): the one the sweep's runs share, e.g. the release's
    multipliers for a sweep planned with mults=release."""
    configs = [plan_mod.config(r) for r in plan["runs"]]
    out = []
    for key in READING_KEYS:
        values = {c[key] for c in configs}
        if len(values) == 1:
            out += ["--" + key.replace("_", "-"), values.pop()]
    return out


def _local_log(job):
    path = local.log_path(job)
    return path if os.path.isfile(path) else None


def _inside(args):
    """``prepare``, ``job`` and ``task``: run inside the Caffe environment."""
    folder = os.path.abspath(args.sweep)
    plan = plan_mod.read(folder)
    if args.command == "job":
        if args.index is None:
            raise RacnnError("job needs the job's name (the sbatch script's argument)")
        return slurm.run_job(plan, folder, args.index, args.slurm_job, args.gpu)
    if args.command == "task":
        if args.index is None or not str(args.index).isdigit():
            raise RacnnError("task needs the run's index (Slurm's $SLURM_ARRAY_TASK_ID)")
        return slurm.run_task(plan, int(args.index), args.gpu, args.slurm_job)
    from .prepare import prepare       # deferred: builds databases (numpy, LMDB)
    only = None if not args.only else {int(i) for i in args.only.split(",")}
    prepare(plan, folder, only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
