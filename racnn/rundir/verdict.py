"""The one rule for "finished" and "comparable with the paper", used by the
experiment pipeline, the sweep (skip or resubmit), ``sweep status`` and the
report (placement).  Each answer is a Verdict: ``ok`` and the reasons
against, every one of them, so that nobody has to guess why.

*Finished* (``stage_finished``, ``run_finished``): the run folder's
configuration equals the one asked for; the stage has its DONE marker and
final model; it is not stale (the nets and solver it copied are unchanged
since, the driver found no changed source for it, and every stage it
starts from is finished, not stale, and finished before it); every
network's final model is evaluated.  Pure Python:
``sweep status`` runs it on a login node.

*Comparable with the paper* (``comparable``): finished, and on top of the
keyed settings of racnn.rundir.keying, its nets and solvers (and those of
every stage it starts from) are the committed files, unedited (sha256 against
what the generators write: racnn.nets.generate, imported only here, since it
needs pycaffe), and its databases' manifests say the images are the full
official split and were not upscaled beyond ``UPSCALE_TOLERANCE``.
"""
import collections
import hashlib
import os

from .. import vocab
from ..db.manifest import UPSCALE_FACTOR, existing_manifest
from ..paths import REPO
from . import keying, layout, sr_model
from .reader import load_config, read_run, sha256
from .results import evaluated_final
from .settings import DEFAULTS, VOLATILE, as_written, stage_plan, stage_reads

Verdict = collections.namedtuple("Verdict", "ok reasons")

#: the configuration keys two attempts on one run folder must share
COMPARED = tuple(k for k in DEFAULTS if k not in VOLATILE)
#: at most this fraction of a database's source images may have been
#: upscaled more than UPSCALE_FACTOR (shorter side under stored size / factor)
#: for its run to stand beside the paper's photos
UPSCALE_TOLERANCE = 0.10


def _verdict(reasons):
    return Verdict(not reasons, list(reasons))


def config_differences(old, wanted):
    """``["key: old -> new", ...]`` of the configuration keys (COMPARED) in
    which a run folder's config.json ``old`` differs from ``wanted``; a key
    that a config.json of an older version lacks counts as what that version
    ran (racnn.rundir.settings.as_written: its default, or ``ABSENT``)."""
    old, wanted = as_written(old), as_written(wanted)
    return ["%s: %r -> %r" % (k, old[k], wanted[k]) for k in COMPARED if old[k] != wanted[k]]


def trained_anything(run_dir):
    """Whether any stage of ``run_dir`` has started training (a train.log or
    a snapshot): until then a run folder holds no result and locks no
    configuration."""
    if not os.path.isdir(run_dir):
        return False
    return any(os.path.isfile(os.path.join(run_dir, n, layout.LOG)) or
               os.path.isdir(os.path.join(run_dir, n, layout.SNAPSHOT_DIR))
               for n in os.listdir(run_dir) if n in vocab.STAGES)


def _source_path(rel):
    return rel if os.path.isabs(rel) else os.path.join(REPO, rel)


def changed_sources(rec):
    """The sources a stage copied (``stages.<name>.source``) whose content
    differs now from the sha256 it recorded, as "path (changed)" / "path
    (missing)" strings; [] for a record without hashes (older run folders)."""
    out = []
    hashes = (rec or {}).get("source_sha256") or {}
    for key, rel in sorted(((rec or {}).get("source") or {}).items()):
        if key not in hashes:
            continue
        path = _source_path(rel)
        if not os.path.isfile(path):
            out.append("%s (missing now)" % rel)
        elif sha256(path) != hashes[key]:
            out.append("%s (edited since the stage copied it)" % rel)
    return out


def _plan(config):
    """The stages a run folder's configuration trains (a config.json written
    by an older version may lack keys: the defaults stand in)."""
    return stage_plan(as_written(config)) if config.get("dataset") else []


def _reads(config, name):
    """The stages of this run that ``name`` starts from
    (racnn.rundir.settings.stage_reads)."""
    return stage_reads(as_written(config), name, _plan(config)) if config.get("dataset") else []


def stage_finished(run_dir, name, config=None, _seen=None):
    """Verdict of stage ``name`` of ``run_dir``: trained to its end and not
    stale (see the module docstring)."""
    config = config if config is not None else (load_config(run_dir) or {})
    d = os.path.join(run_dir, name)
    st = read_run(d).stages[0] if os.path.isfile(os.path.join(d, layout.SOLVER)) else None
    if st is None or not st.done:
        return _verdict(["%s has not finished (no %s/DONE with its final model)" % (name, name)])
    reasons = ["%s is stale: %s" % (name, c)
               for c in changed_sources((config.get("stages") or {}).get(name))]
    reasons += shared_model_reasons(name, st.done["final_model"],
                                    ((config.get("stages") or {}).get(name) or {}).get(
                                        "shared_model"))
    if not reasons and name in (config.get("stale") or {}):   # what the driver saw
        reasons.append((config.get("stale") or {})[name])
    for read in _reads(config, name):
        up = stage_finished(run_dir, read, config)
        if not up.ok:
            reasons.append("%s starts from %s, which is not finished: %s"
                           % (name, read, "; ".join(up.reasons)))
        elif _finished_at(run_dir, read) > _finished_at(run_dir, name):
            reasons.append("%s is stale: %s was trained again after it" % (name, read))
    return _verdict(reasons)


def shared_model_reasons(name, final, used):
    """Why a stage that uses the shared stage-1 model ``used`` (its
    config.json entry ``shared_model``) cannot count: the model is not usable
    now, or it is not the one the run used (trained again since)."""
    if not used:
        return []
    why = sr_model.problems(used.get("folder") or os.path.dirname(final))
    if why:
        return ["%s: the shared stage-1 model is not usable: %s" % (name, "; ".join(why))]
    if sha256(final) != used.get("sha256"):
        return ["%s is stale: the shared stage-1 model %s was trained again since this run "
                "used it (sha256 %s.. then)" % (name, used.get("folder"),
                                                 str(used.get("sha256"))[:12])]
    return []


def _finished_at(run_dir, name):
    done = read_run(os.path.join(run_dir, name)).stages[0].done
    return (done or {}).get("finished") or ""


def stage_done(run_dir, name, config=None):
    """Verdict of what training stage ``name`` alone does (a sweep's stage
    job): the stage finished and not stale (``stage_finished``), and, for a
    classification stage, its final model evaluated."""
    v = stage_finished(run_dir, name, config)
    if v.ok and name in vocab.CLASSIFIER_STAGES and \
            evaluated_final(read_run(os.path.join(run_dir, name)).stages[0]) is None:
        return _verdict(["%s: its final model is not evaluated (no %s/eval/metrics.json of it)"
                         % (name, name)])
    return v


def run_finished(run_dir, wanted=None, variants=None):
    """Verdict of a run folder: its configuration equals ``wanted`` (when
    given), and every stage of its plan is finished with every network of
    ``variants`` (default: the configuration's) evaluated on its final model."""
    config = load_config(run_dir)
    if config is None:
        return _verdict(["%s has no run folder (no config.json)" % run_dir
                         if not os.path.isdir(run_dir) else
                         "%s has no config.json: nothing was trained there" % run_dir])
    reasons = []
    if wanted is not None:
        diff = config_differences(config, wanted)
        if diff:
            reasons.append("made with another configuration (%s)" % "; ".join(diff))
    for name in _plan(config):
        v = stage_finished(run_dir, name, config)
        reasons += [r for r in v.reasons if r not in reasons]
    run = read_run(run_dir)
    by_name = {s.name: s for s in run.stages}
    for variant in variants or config.get("variants") or ():
        name = vocab.VARIANTS[variant].stages[-1] if variant in vocab.VARIANTS else variant
        st = by_name.get(name)
        if st is not None and st.done and evaluated_final(st) is None:
            reasons.append("%s: its final model is not evaluated (no %s/eval/metrics.json of "
                           "it)" % (name, name))
    return _verdict(reasons)


# ------------------------------------------------------- comparable
def _committed_hashes():
    """{repository-relative path: sha256} of what the generators write for
    prototxt/ and solvers/ (racnn.nets.generate; computed once a process)."""
    global _COMMITTED
    if _COMMITTED is None:
        # deferred: racnn.nets imports pycaffe (~1 s); only the report needs this
        from ..nets.generate import committed_files
        _COMMITTED = {os.path.relpath(p, REPO): hashlib.sha256(t.encode()).hexdigest()
                      for p, t in committed_files().items()}
    return _COMMITTED


_COMMITTED = None


def edited_nets(config, name):
    """Why the nets and solver stage ``name`` trained are not the committed,
    unedited files: a --nets folder or generated nets, or a copy whose
    sha256 is not the generators' output."""
    rec = (config.get("stages") or {}).get(name) or {}
    out = []
    committed = _committed_hashes()
    for key, rel in sorted((rec.get("source") or {}).items()):
        sha = (rec.get("source_sha256") or {}).get(key)
        if rel not in committed:
            out.append("%s trained %s, not a committed file of prototxt/ or solvers/"
                       % (name, rel))
        elif sha != committed[rel]:
            out.append("%s trained an edited %s (sha256 %s.., the generators write %s..)"
                       % (name, rel, (sha or "?")[:12], committed[rel][:12]))
    return out


def database_reasons(run_dir, config, name):
    """Why the databases a stage trained and was tested on do not stand for
    the paper's datasets: not the full official split, or source images
    upscaled beyond the tolerance (from their manifest.json)."""
    out = []
    spec = vocab.DATASETS.get(config.get("dataset"))
    paths = config.get("paths") or {}
    hr = vocab.STAGES.get(name) and vocab.STAGES[name].images == "hr"
    for split in ("train", "test"):
        db = paths.get("%s%s_db" % ("hr_" if hr else "", split))
        if not db:
            continue
        m = existing_manifest(db)
        if not m:
            out.append("database %s has no readable manifest.json: what it holds is unknown"
                       % db)
            continue
        official = getattr(spec, "%s_count" % split, None) if spec else None
        if official is not None and m.get("count") != official:
            out.append("database %s holds %s of the %d images of the official %s split"
                       % (db, m.get("count"), official, split))
        upscaled = upscaled_fraction(m)
        if upscaled is None:
            out.append("database %s does not record its source images' sizes (built by an "
                       "older version; rebuild it with --overwrite)" % db)
        elif upscaled > UPSCALE_TOLERANCE:
            out.append("database %s: %.0f %% of its source images were upscaled more than "
                       "%gx to %d px (tolerance %.0f %%): not the paper's photos"
                       % (db, 100 * upscaled, UPSCALE_FACTOR, m.get("size"),
                          100 * UPSCALE_TOLERANCE))
    return out


def upscaled_fraction(manifest):
    """The fraction of a database's source images whose shorter side is
    under its stored size / UPSCALE_FACTOR, from its manifest; None when the
    manifest does not say."""
    n, count = manifest.get("source_upscaled"), manifest.get("count")
    if n is not None and count:
        return n / float(count)
    sides, size = manifest.get("source_sides"), manifest.get("size")
    if sides and size:                  # older manifests: only the extremes are known
        if sides[0] >= size / UPSCALE_FACTOR:
            return 0.0
        if sides[1] < size / UPSCALE_FACTOR:
            return 1.0
    return None


def folder_reasons(run_dir, name):
    """What keeps stage ``name`` of ``run_dir`` from the paper's tables that
    its folder shows (the keyed settings aside): not finished or stale,
    edited or uncommitted nets (its own and those of the stages it starts
    from), databases that are not the full official split or hold upscaled
    images."""
    config = load_config(run_dir) or {}
    reasons = list(stage_finished(run_dir, name, config).reasons)
    for stage in [name] + upstream(config, name):
        if stage == "backbone_hr":
            continue            # no ImageNet weights: keying says so already
        reasons += edited_nets(config, stage)
    return reasons + database_reasons(run_dir, config, name)


def placement_reasons(record, reading=None):
    """Why a result record may not fill a paper cell under ``reading``: its
    keyed settings (racnn.rundir.keying) and the ``folder_reasons`` its
    collector stored in ``record["folder_reasons"]`` (records made by hand
    have none)."""
    return list(keying.mismatches(record, reading)) + list(record.get("folder_reasons") or ())


def comparable(run_dir, name, record, reading=None):
    """Verdict: may stage ``name`` of ``run_dir``, whose result record is
    ``record``, stand beside the paper's number under ``reading``?"""
    return _verdict(placement_reasons(dict(record, folder_reasons=folder_reasons(
        run_dir, name)), reading))


def upstream(config, name):
    """Every stage of the run ``config`` that stage ``name`` starts from,
    directly or through another stage."""
    out = []
    for read in _reads(config, name):
        out += [s for s in [read] + upstream(config, read) if s not in out]
    return out


def short_stages(config, name):
    """The stages ``name`` depends on (itself and its ``upstream``) that the
    driver flagged short (``stages.<stage>.short_schedule``: fewer iterations
    than the release's with the release's learning rate): a result is of the
    full schedule only when every stage it depends on is."""
    recs = config.get("stages") or {}
    return [s for s in [name] + upstream(config, name)
            if (recs.get(s) or {}).get("short_schedule")]
