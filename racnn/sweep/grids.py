"""The paper's grids as plans of experiments: each point is one run of
tools/experiment.py (dataset, backbone, settings), named and placed by
racnn.rundir.settings.run_name like any run.  Every list of names comes from
racnn.vocab, every setting of a table from racnn.paper.

  table2   3 datasets x 3 backbones, r = 50, frozen (Table II)
  table3   Birds, AlexNet, frozen, r = 25, 50, 100 (Table III)
  fig4     Cars and Birds, AlexNet, r = 50, end to end (Fig. 4)
  all      the three, each run once (Table III's r = 50 is Table II's run)
  demo     the synthetic dataset, tiny backbone, --smoke, three resolutions:
           minutes on a CPU (what the tests submit)

Each paper grid names the multiplier reading it runs: ``table2`` etc. the
paper's text (``mults`` paper: the ``*_paper_*`` nets; g-RACNN from the
fillers; stage 2 the solver's 700k iterations), ``table2-release`` etc. the
authors' release (``*_release_*`` nets, g-RACNN from the pre-trained SR
weights, stage 2 the notebooks' 1M iterations); a ``--set mults=...`` of the
sweep (make ``MULTS=``) overrides either.  ``with_seeds(points, seeds)``:
each point once per seed (one run folder each).
"""
import collections
import os

from .. import paper, vocab
from ..demo import settings as demo_settings
from ..errors import RacnnError
from ..paths import DATA_DIR
from ..rundir.settings import DEFAULTS, SMOKE

#: the networks of a paper run: Table II/III's rows, Fig. 4's (its RACNN row
#: is p- or g-RACNN, so both are trained), in training order
TABLE_VARIANTS = [v for v in vocab.VARIANTS if any(v == var for _, var in paper.TABLE_II)]
FIG4_VARIANTS = [v for v in vocab.VARIANTS
                 if v in paper.FIG_4 or v in paper.FIG_4_RACNN_VARIANTS]

#: the demo grid's resolutions: 72 -> r -> 72, r = 16 the paper's 227 -> 50
#: factor; all three share the HR databases of backbone_hr (built once)
DEMO_RES = (12, 16, 24)
DEMO_DATA = "synthetic-sweep"


def point(dataset, backbone, smoke=False, **settings):
    return {"dataset": dataset, "backbone": backbone, "smoke": bool(smoke),
            "settings": settings}


#: the reading the plain grid names run (the package's default, so it is not
#: written into their plans: plans written before stay the same); each grid
#: also has a ``<name>-<reading>`` twin for every other reading
DEFAULT_MULTS = DEFAULTS["mults"]


def _reading(mults):
    return {} if mults == DEFAULT_MULTS else {"mults": mults}


def table2(mults=DEFAULT_MULTS):
    setting = paper.TABLE_II_SETTING
    return [point(ds, bb, res=setting["res"], mode=setting["mode"], **_reading(mults),
                  variants=TABLE_VARIANTS)
            for bb in vocab.PAPER_BACKBONES for ds in vocab.DATASETS]


def table3(mults=DEFAULT_MULTS):
    s = paper.TABLE_III_SETTING
    resolutions = sorted({r for per_res in paper.TABLE_III.values() for r in per_res})
    return [point(s["dataset"], s["backbone"], res=r, mode=s["mode"], **_reading(mults),
                  variants=TABLE_VARIANTS)
            for r in resolutions]


def fig4(mults=DEFAULT_MULTS):
    s = paper.FIG_4_SETTING
    datasets = [ds for ds in vocab.DATASETS if ds in paper.FIG_4["cnn"]]
    return [point(ds, s["backbone"], res=s["res"], mode=s["mode"], **_reading(mults),
                  variants=FIG4_VARIANTS)
            for ds in datasets]


def every(mults=DEFAULT_MULTS):
    return table2(mults) + table3(mults) + fig4(mults)


def with_seeds(points, seeds):
    """Each of ``points`` once per seed of ``seeds`` (one run folder each,
    named ``-seed<N>`` unless N is the default seed)."""
    return [dict(p, settings=dict(p["settings"], seed=int(seed))) for p in points
            for seed in seeds]


def demo_data_dir():
    return os.path.join(DATA_DIR, DEMO_DATA)


def demo():
    """The demo's setting (racnn.demo.settings.CONFIG, as tools/demo.py --smoke runs
    it) at three resolutions, the paper's three networks: each run trains its
    backbone_hr, and the three share one stage-1 model (stage 1 reads sr_res,
    not res); a check of the sweep machinery (its graph of jobs) in minutes
    on a CPU, not of RACNN (that is make demo)."""
    base = {k: v for k, v in demo_settings.CONFIG.items() if k not in SMOKE}
    base.update(data_format="folder", data_root=demo_data_dir(), variants=TABLE_VARIANTS)
    return [point("synthetic", "tiny", smoke=True, **dict(base, res=r)) for r in DEMO_RES]


PAPER_GRIDS = collections.OrderedDict([
    ("table2", table2), ("table3", table3), ("fig4", fig4), ("all", every)])
GRIDS = collections.OrderedDict(
    [(name, f) for name, f in PAPER_GRIDS.items()] +
    [("%s-%s" % (name, m), (lambda f, m: lambda: f(m))(f, m))
     for name, f in PAPER_GRIDS.items() for m in vocab.READINGS if m != DEFAULT_MULTS] +
    [("demo", demo)])


def grid(name):
    """The points of the named grid."""
    if name not in GRIDS:
        raise RacnnError("unknown sweep %r; named sweeps: %s (or give --dataset/--backbone "
                         "... for a product of settings)" % (name, ", ".join(GRIDS)))
    return GRIDS[name]()


def product(datasets, backbones, smoke=False, **lists):
    """Every combination of ``datasets`` x ``backbones`` x each setting's list
    of values (``res=[25, 50]``, ``mode=["frozen"]``, ...)."""
    points = [point(ds, bb, smoke=smoke) for ds in datasets for bb in backbones]
    for key, values in lists.items():
        points = [dict(p, settings=dict(p["settings"], **{key: v}))
                  for p in points for v in values]
    return points
