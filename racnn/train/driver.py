"""The experiment driver: it trains the stages of one run folder, in order
(docs/DESIGN.md draws the folder).  ``Trainer.prepare()`` makes the run
ready: fail-fast checks of its inputs (racnn.inputs), the run folder
(config.json, VERSION), the databases.  ``Trainer.train(stage)`` sets up one
stage folder (nets and solver copied from prototxt/ and solvers/, or
generated for a backbone/dataset without committed files), initialises its
weights with an audit and runs ``caffe train`` for it, resumably.

Stage 1 is the shared stage-1 model of the run's settings
(racnn.rundir.sr_model, racnn.train.shared_stage1): trained once for every
run that needs it, reused by the others.  Several drivers may train
different stages of one run folder at once (a sweep's stage jobs, each
``Trainer(..., only=stage)``): each writes config.json under the run's
config lock, with only the entries of the stages it trains.

Nothing here evaluates or reports: racnn.pipeline runs train -> evaluate ->
report for one run; the sweep's jobs and tools call the same pieces.
"""
import json
import os
import sys

from .. import locks, vocab
from ..errors import RacnnError
from ..paths import REPO
from ..rundir import layout, sr_model
from ..rundir.reader import load_config
from ..rundir.settings import DEFAULTS, dumps, gpu_env, sr_start, stage_plan
from ..rundir.stage import final_model, log_line, read_done
from ..inputs.checks import check_inputs
from ..inputs.databases import databases
from ..inputs.gpu import usable_gpu
from . import caffe_train, provenance, schedule, shared_stage1, stage_copies
from .net_sources import classifier_sources, expected_new, generated_classifier, sr_sources


class Trainer(object):
    """The stages of run ``cfg`` in the folder ``run_dir``.  ``record`` is
    what config.json holds: the settings, and as provenance the inputs'
    ``paths``, each stage's ``stages`` entry (sources and their sha256,
    iterations, batch, epochs, final model) and ``stale`` stages.
    ``command``: the command line that reruns it (for the stale-stage message);
    ``only``: the one stage this driver trains (the others are another
    driver's; default: every stage of the plan)."""

    def __init__(self, cfg, run_dir, echo=False, command=None, only=None):
        self.cfg = cfg
        self.run_dir = os.path.abspath(run_dir)
        self.echo = echo
        self.command = command or "docker/run python3 tools/experiment.py %s %s --run-dir %s" % (
            cfg["dataset"], cfg["backbone"], self.run_dir)
        self.record = dict(cfg, run_dir=self.run_dir, paths={}, stages={})
        self.plan = stage_plan(cfg)
        if only is not None and only not in self.plan:
            raise RacnnError("--only-stage %s: not a stage of this run (its stages: %s)"
                             % (only, ", ".join(self.plan)))
        self.only = only
        #: the stages this driver trains, in order: the plan, or stage ``only``
        self.stages = list(self.plan) if only is None else [only]
        #: the stages whose entries of config.json this driver writes
        self.owned = set(self.stages)
        self.restart = [s for s in provenance.restart_set(cfg.get("restart"), self.plan, cfg)
                        if s in self.owned]
        self.found = self.data = self.gpu = None
        self.caffe_env = {}
        self.models = {}            # stage -> final model, handed to the stages that read it
        self._schedule_warned = False

    # ------------------------------------------------------------ helpers
    def log(self, text, echo=True):
        log_line(os.path.join(self.run_dir, layout.EXPERIMENT_LOG), text, echo=echo)

    def config_lock(self):
        """The run's config lock, held while config.json (or VERSION, or the
        run's report) is written: other drivers of the same folder may be
        writing theirs."""
        return locks.hold(layout.lock_file(self.run_dir, "config"),
                          "config.json of %s" % self.run_dir)

    def save(self):
        """config.json: this driver's stages merged into what is there."""
        with self.config_lock():
            disk = load_config(self.run_dir)
            if disk is not None:
                self.record = provenance.merged(disk, self.record, self.owned)
            provenance.save_config(self.run_dir, self.record)

    def stage_dir(self, name):
        return os.path.join(self.run_dir, name)

    def test_db(self, name):
        """The database a stage is evaluated on: the HR test images for the
        stages trained on them, else the LR test database."""
        hr = vocab.STAGES[name].images == "hr"
        return self.data["hr_test_db" if hr else "test_db"]

    # ------------------------------------------------------------ prepare
    def prepare(self):
        """Check the inputs (before any work), make the run folder, build and
        check the databases; returns the stages to train, in order."""
        cfg = self.cfg
        self.found = check_inputs(cfg, self.stages)
        self.gpu = usable_gpu(cfg["gpu"])
        #: the GPU speed options for Caffe (racnn.rundir.settings.gpu_env)
        self.caffe_env = gpu_env(cfg)
        if self.caffe_env and not self.gpu:
            print("[racnn] note: %s asked for, but the run trains on the CPU (no --gpu): no "
                  "effect there" % ", ".join(k for k in ("tf32", "cudnn") if cfg[k]),
                  file=sys.stderr, flush=True)
        # the databases before the run folder: a run whose data check fails
        # leaves no folder (and no configuration) behind; a driver of one
        # stage builds what that stage reads
        self.data = databases(cfg, self.found, self.stages)
        with self.config_lock():
            version = provenance.prepare(self.run_dir, self.record, keep=("paths", "stages"),
                                         owned=self.owned)
        self.log("experiment %s: %s; code %s" % (
            os.path.basename(self.run_dir), "stages %s" % ", ".join(self.plan) if self.only is None
            else "stage %s (of %s)" % (self.only, ", ".join(self.plan)), version))
        with open(os.path.join(self.run_dir, layout.EXPERIMENT_LOG), "a") as fh:
            fh.write("configuration (config.json):\n%s\n" % dumps({k: cfg[k] for k in DEFAULTS}))
        self.record["paths"].update(self.data["paths"])
        # the run's initial weights as given or fetched (each stage records
        # the files it started from: stages.<name>.init_from)
        self.record["paths"].update(backbone_weights=self.found.get("backbone_weights"),
                                    sr_weights=self.found.get("authors_sr_weights"))
        self.save()
        return list(self.stages)

    def model_of(self, stage, reader=None):
        """The final model of an earlier stage of this run (stage 1: the
        shared model of its settings, linked when another run trained it); a
        RacnnError when it has not finished (a stage never starts from
        fillers in its place)."""
        final = self.models.get(stage)
        d = self.stage_dir(stage)
        # a stage1_sr folder of the run's own (an earlier version trained it there) is read
        # like any stage's; else the shared model of the run's stage-1 settings
        own = os.path.isdir(d) and not shared_stage1.is_shared(d)
        if not final and stage == "stage1_sr" and not own:
            final = self.shared_stage1(train=False)
        final = final or final_model(d)
        if not final:
            raise RacnnError("stage %s starts from the final model of stage %s, which has not "
                             "finished (%s)" % (reader or self.only or stage, stage,
                                                self.stage_dir(stage)))
        return final

    def start_weights(self, name):
        """The backbone model a classifier stage starts from: the final model
        of the stage it reads (backbone_hr, staged_hr) when the run trains it,
        else the fetched or given backbone weights (None: fillers)."""
        for read in vocab.STAGES[name].reads:
            if read in self.plan and read != "stage1_sr":
                return self.model_of(read, name)
        return self.found.get("backbone_weights")

    def sr_weights(self):
        """p-RACNN's SR weights: stage 1's final model, or the authors' file."""
        if "stage1_sr" in self.plan:
            return self.model_of("stage1_sr")
        return self.found.get("authors_sr_weights")

    # --------------------------------------------------------------- train
    def train(self, name):
        """Train stage ``name`` (set up, initialised, ``caffe train``) unless
        it finished before; returns its final model."""
        if name == "stage1_sr":
            final = self.train_stage1()
        elif name == "backbone_hr":
            final = self.train_backbone_hr()
        else:
            final = self.train_classifier(name)
        self.models[name] = final
        return final

    def _setup(self, name, nets, databases, batches, epochs, images, solver_key,
               test_images=None, derived=()):
        """Write the stage folder's copies of ``nets`` ({"train_val",
        "solver", ...}) reading ``databases`` ({"train": db, "test": db}) with
        ``batches``, once (a resumed stage keeps the files it started with),
        and return its record; ``derived``: the deploy nets derived from the
        copied train_val (deploy.prototxt, sr_deploy.prototxt)."""
        d = self.stage_dir(name)
        solver_dst = os.path.join(d, layout.SOLVER)
        if os.path.isfile(solver_dst) and not self._refresh(name, d, nets):
            return self.record["stages"].get(name) or {}
        os.makedirs(d, exist_ok=True)
        cfg = self.cfg
        train_val = os.path.join(d, layout.TRAIN_VAL)
        used = stage_copies.copy_net(nets["train_val"], train_val, databases, batches)
        for dst_name in derived:        # derived, not copied: one file to edit per net
            stage_copies.write_deploy(train_val, os.path.join(d, dst_name), sr_size=cfg["sr_size"])
        batch = used["train"]
        max_iter = schedule.stage_max_iter(cfg, nets, batch, epochs, images, solver_key)
        length = schedule.release_length(cfg, solver_key, nets)
        test_iter = None
        if test_images and "test" in used and cfg["tests"]:
            test_iter = -(-test_images // used["test"])
            if cfg["test_iter_max"]:
                test_iter = min(test_iter, int(cfg["test_iter_max"]))
        msg = schedule.scaled_solver(nets["solver"], max_iter, test_iter, cfg["snapshots"],
                                     cfg["tests"], gpu=bool(self.gpu), seed=cfg["seed"],
                                     stage_dir=d, reference=length)
        for key, value in (cfg["solver"] or {}).get(solver_key, {}).items():
            schedule.set_solver_field(msg, key, value, nets["solver"])
        rec = {"source": {k: os.path.relpath(v, REPO) if v.startswith(REPO) else v
                          for k, v in nets.items() if k in layout.COPIED},
               "source_sha256": provenance.source_hashes(nets),
               "max_iter": max_iter, "batch_size": batch, "images": images,
               "epochs": round(max_iter * batch / float(images), 3) if images else None,
               "test_iter": test_iter,
               # the release's length its steps are scaled from (stage 2: the solver's
               # max_iter or the notebooks' 1M, stage2_length)
               "release_length": length}
        self.record["stages"][name] = rec
        stage_copies.write_copy(nets["solver"], solver_dst, msg)   # last: the folder is set up
        self.save()
        self.log("%s: trains %s" % (name, provenance.source_note(nets["train_val"], d)))
        return rec

    def _refresh(self, name, d, nets):
        """Whether a stage folder already set up must be set up again: when
        --restart names it, or when a source it copied has changed and it has
        not finished (its old files go to superseded/, saying so).  A finished
        stage whose sources changed is reported as stale, with the command
        that retrains it, and kept."""
        rel = os.path.relpath
        if name in self.restart:
            self.restart.remove(name)
            old = provenance.supersede(d)
            self.log("%s: restarted (--restart); its earlier files are in %s"
                     % (name, rel(old, self.run_dir)))
            return True
        changed = provenance.changed_sources(self.record["stages"].get(name), nets)
        if not changed:
            return False
        if read_done(d):
            self._stale(name, changed)
            return False
        old = provenance.supersede(d)
        self.log("%s: %s changed since this stage was set up; the stage starts afresh with "
                 "the current file (its earlier copies and snapshots are in %s)"
                 % (name, "; ".join(changed), rel(old, self.run_dir)))
        return True

    def _stale(self, name, changed):
        """Record and say that the finished stage ``name``, kept, is stale
        (``changed``: what changed since it was trained)."""
        msg = provenance.stale_message(name, changed, self.command)
        self.record.setdefault("stale", {})[name] = msg
        self.log("warning: " + msg)

    def _caffe_train(self, name, weights=None):
        self.log("%s: training (log: %s)" % (name, os.path.join(name, layout.LOG)), echo=False)
        final = caffe_train.run_stage(self.stage_dir(name), weights=weights, gpu=self.gpu,
                                      echo=self.echo, env=self.caffe_env)
        self.log("%s: final model %s" % (name, os.path.relpath(final, self.run_dir)), echo=False)
        self.record["stages"].setdefault(name, {})["final_model"] = final
        self.save()
        return final

    # ------------------------------------------------------------ stages
    def train_backbone_hr(self):
        """The backbone trained on the undegraded images: the stand-in for
        ImageNet pre-training when a backbone has no ImageNet weights."""
        name, cfg, data = "backbone_hr", self.cfg, self.data
        nets = generated_classifier(cfg, "backbone_hr", data, self.stage_dir(name))
        self._setup(name, nets, {"train": data["hr_train_db"], "test": data["hr_test_db"]},
                    {"train": cfg["stage2_batch"], "test": cfg["test_batch"]},
                    cfg["backbone_hr_epochs"], data["train_count"], "backbone_hr",
                    data["test_count"], [layout.DEPLOY])
        return self._caffe_train(name)

    def train_stage1(self):
        """Stage 1: the shared model of the run's stage-1 settings, reused
        when finished, else trained (a run folder of an earlier version that
        trained its own stage1_sr keeps it)."""
        name = "stage1_sr"
        d = self.stage_dir(name)
        if read_done(d) and not shared_stage1.is_shared(d) and name not in self.restart:
            return self._train_stage1_in_place()          # finished before: skipped
        linked, shared = shared_stage1.linked_to(d), sr_model.folder(self.run_dir, self.cfg)
        if linked and linked != os.path.realpath(shared) and read_done(d) and \
                name not in self.restart:
            self._stale(name, ["its settings or sources: it used the shared model %s, they "
                               "now make %s" % (linked, shared)])
            self.save()
            return final_model(d)
        return self.shared_stage1(train=True)

    def shared_stage1(self, train=True):
        """The shared stage-1 model of this run's settings, under its lock (a
        second driver waits, then finds it finished): reused when finished
        and usable (linked as ``<run>/stage1_sr``, recorded in config.json,
        said in experiment.log), else trained there (``train``) or None.  A
        finished model that is not usable is never used: its files move
        aside and it is trained again."""
        name, cfg = "stage1_sr", self.cfg
        d, shared = self.stage_dir(name), sr_model.folder(self.run_dir, cfg)
        with locks.hold_beside(shared, sr_model.lock_what(shared)):
            if read_done(shared) and name not in self.restart:
                why = shared_stage1.problems(shared, cfg)
                if not why:
                    rec = sr_model.read_record(shared)
                    # this run used this very model before (a rerun): skipped like any
                    # finished stage, in the same words, naming the shared model
                    before = shared_stage1.linked_to(d) == os.path.realpath(shared) and (
                        self.record["stages"].get(name) or {}).get("shared_model", {}).get(
                        "sha256") == rec.get("model_sha256")
                    shared_stage1.link(d, shared)
                    self.owned.add(name)
                    final = final_model(d)
                    self.record["stages"][name] = dict(
                        rec.get("stage") or {}, final_model=final,
                        shared_model=sr_model.used_entry(shared, cfg))
                    if before:
                        self.log("%s: finished before (%s), skipped: the shared stage-1 model "
                                 "%s, reused" % (name, rec.get("finished"), shared))
                    else:
                        self.log("%s: reusing the shared stage-1 model %s (the same stage-1 "
                                 "settings; trained by %s, finished %s)" % (
                                     name, shared, rec.get("trained_by"), rec.get("finished")))
                    self.save()
                    return final
                old = shared_stage1.set_aside(shared)
                self.log("warning: the shared stage-1 model %s is not used: %s; its files are "
                         "in %s; it is trained again" % (shared, "; ".join(why), old))
            if not train:
                return None
            shared_stage1.link(d, shared)
            self.owned.add(name)
            known = sr_model.read_setup(shared)          # another run set it up, then stopped
            if known and name not in self.record["stages"]:
                self.record["stages"][name] = known
            final = self._train_stage1_in_place(shared)
            sr_model.write_record(shared, cfg, self.record["stages"][name], self.run_dir)
            self.record["stages"][name]["shared_model"] = sr_model.used_entry(shared, cfg)
            self.log("%s: the shared stage-1 model %s is final; runs with the same stage-1 "
                     "settings reuse it" % (name, shared))
            self.save()
            return final

    def _train_stage1_in_place(self, shared=None):
        """Stage 1 in ``<run>/stage1_sr`` (a link to ``shared``, whose setup
        record is kept there for the runs that resume it)."""
        name, cfg, data = "stage1_sr", self.cfg, self.data
        nets = sr_sources(cfg, data, self.stage_dir(name))
        rec = self._setup(name, nets, {"train": data["sr_db"]}, {"train": cfg["stage1_batch"]},
                          cfg["stage1_epochs"], data["sr_count"], "stage1", None,
                          [layout.SR_DEPLOY])
        self.check_schedule(name, "stage1", nets, rec)
        if shared:
            sr_model.write_setup(shared, self.record["stages"][name])
        return self._caffe_train(name)

    # ------------------------------------------------ honest schedules
    def check_schedule(self, name, solver_key, nets, rec):
        """A stage shorter than the release's schedule that keeps the
        release's learning rate (tuned for 700k stage-2 iterations) under-trains
        its new layers: say so once per run and record it in config.json
        (``stages.<name>.short_schedule``, ``schedule_note``) for the report."""
        short = schedule.schedule_shortfall(self.cfg, solver_key, nets, rec)
        self.record["stages"].setdefault(name, {})["short_schedule"] = short
        if short is not None:
            note = ("short schedule: %s trains %d iterations where the release trains %d, "
                    "with the release's base_lr %g (tuned for the full schedule), so its new "
                    "layers are under-trained and its accuracy is not comparable with the "
                    "paper's; set base_lr (--set 'solver={...}') or drop "
                    "stage1_epochs/stage2_epochs/iters"
                    % (name, short["max_iter"], short["release_max_iter"], short["base_lr"]))
            self.record["schedule_note"] = note
            self.log("warning: " + note, echo=not self._schedule_warned)
            self._schedule_warned = True
        self.save()

    def train_classifier(self, name):
        """Stage 2 into the stage folder ``name``: the nets of its variant's
        net family (Staged-Training's two stages train the CNN's), reading the
        LR databases (the HR ones for the stages racnn.vocab marks ``hr``),
        initialised from the backbone model it reads (+ the SR weights when
        its SR layers start from them: p-RACNN, g-RACNN with g_sr_init
        pretrained) with an audit of every layer's source."""
        # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
        from ..weights import init_caffemodel
        cfg, data = self.cfg, self.data
        d = self.stage_dir(name)
        net = vocab.VARIANTS[name].net if name in vocab.VARIANTS else "cnn"
        hr = vocab.STAGES[name].images == "hr"
        train_db, test_db = ((data["hr_train_db"], data["hr_test_db"]) if hr
                             else (data["train_db"], data["test_db"]))
        backbone = self.start_weights(name)
        # p-RACNN, and g-RACNN with g_sr_init pretrained (the release's notebooks: the
        # backbone, then the SR model copied in), start their SR layers from SR weights
        start = sr_start(cfg, name)
        sr = self.sr_weights() if start == "pretrained" else None
        nets = classifier_sources(cfg, net, data, d)
        rec = self._setup(name, nets, {"train": train_db, "test": test_db},
                          {"train": cfg["stage2_batch"], "test": cfg["test_batch"]},
                          cfg["stage2_epochs"], data["train_count"], "stage2",
                          data["test_count"], [layout.DEPLOY])
        self.check_schedule(name, "stage2", nets, rec)

        def init_weights():       # run_stage calls it only when starting afresh
            files = [w for w in [backbone, sr] if w]
            if not files:
                return None
            train_val = os.path.join(d, layout.TRAIN_VAL)
            # a stage started from another stage of the run (staged from
            # staged_hr) has every layer of its model: nothing may be new
            new = () if name == "staged" else expected_new(
                cfg, net, train_val, bool(backbone), bool(sr))
            swap = bool(sr) and cfg["sr_weights"] == "authors"
            weights = os.path.join(d, "init.caffemodel")
            audit = init_caffemodel(train_val, files, weights, expected_new=new,
                                    swap_sr_rgb_to_bgr=swap, seed=cfg["seed"])
            with open(os.path.join(d, "init_audit.txt"), "w") as fh:
                fh.write(audit.format() + "\n")
            with open(os.path.join(d, "init_audit.json"), "w") as fh:
                json.dump(audit.to_dict(), fh, indent=1)
            self.record["stages"].setdefault(name, {}).update(init_from=files, sr_start=start)
            self.save()
            log_line(os.path.join(d, layout.LOG), "%s: initialised from %s "
                     "(audit: init_audit.txt; new: %s)" % (
                         name, ", ".join(files), ", ".join(audit.new_layers()) or "nothing"),
                     echo=self.echo)
            return weights
        return self._caffe_train(name, init_weights)
