"""Where the committed nets and solvers live (docs/DESIGN.md, "Committed nets"):

    prototxt/<backbone>/<dataset>/<variant>_<mode>_<mults>_train_val.prototxt
    prototxt/<backbone>/<dataset>/{cnn,racnn}_deploy.prototxt
    prototxt/sr/sr_pretrain_<mults>.prototxt, prototxt/sr/sr_deploy.prototxt
    solvers/<backbone>/<dataset>/<variant>_<mode>_<mults>_solver.prototxt
    solvers/sr/sr_pretrain_<mults>_solver.prototxt

variant ``cnn`` | ``racnn_g`` | ``racnn_p``, mode ``e2e`` | ``frozen``,
mults ``paper`` | ``release``.  Every function takes ``root``: None = the
repository, ``""`` = a path relative to the repository root (the form written
inside committed solvers, since Caffe runs from the root), or any folder.
"""
import os

from .. import paths, vocab
from ..errors import RacnnError
from . import presets

#: the committed net families (racnn.vocab.NETS)
VARIANTS = vocab.NETS


def parse_variant(variant):
    """(racnn, sr_init) of a variant name."""
    if variant not in VARIANTS:
        raise RacnnError("unknown variant %r; valid: %s" % (variant, ", ".join(VARIANTS)))
    return (variant != "cnn", "p" if variant == "racnn_p" else "g")


def _root(root):
    return paths.REPO if root is None else root


def _check(backbone, variant, mode, mults):
    vocab.backbone_spec(backbone)
    parse_variant(variant)
    presets.check(mults, mode, "g")


def train_val_name(variant, mode, mults):
    return "%s_%s_%s_train_val.prototxt" % (variant, mode, mults)


def deploy_name(racnn):
    return "%s_deploy.prototxt" % ("racnn" if racnn else "cnn")


def solver_name(variant, mode, mults):
    return "%s_%s_%s_solver.prototxt" % (variant, mode, mults)


def sr_train_name(mults):
    return "sr_pretrain_%s.prototxt" % mults


def sr_solver_name(mults):
    return "sr_pretrain_%s_solver.prototxt" % mults


def train_val_path(backbone, dataset, variant, mode, mults, root=None):
    _check(backbone, variant, mode, mults)
    return os.path.join(_root(root), "prototxt", backbone, dataset,
                        train_val_name(variant, mode, mults))


def deploy_path(backbone, dataset, racnn, root=None):
    vocab.backbone_spec(backbone)
    return os.path.join(_root(root), "prototxt", backbone, dataset, deploy_name(racnn))


def solver_path(backbone, dataset, variant, mode, mults, root=None):
    _check(backbone, variant, mode, mults)
    return os.path.join(_root(root), "solvers", backbone, dataset,
                        solver_name(variant, mode, mults))


def sr_train_path(mults="release", root=None):
    presets.check(mults, "e2e", "g")
    return os.path.join(_root(root), "prototxt", "sr", sr_train_name(mults))


def sr_deploy_path(root=None):
    return os.path.join(_root(root), "prototxt", "sr", "sr_deploy.prototxt")


def sr_solver_path(mults="release", root=None):
    presets.check(mults, "e2e", "g")
    return os.path.join(_root(root), "solvers", "sr", sr_solver_name(mults))


def manual_snapshot_prefix(*parts):
    """Snapshot prefix written into committed solvers (relative to the
    repository root): ``runs/manual/<parts joined by _>/snap``.  Caffe does
    not create folders: ``mkdir -p`` it before running a committed solver by
    hand; the experiment driver writes its own solver per run."""
    return os.path.join("runs", "manual", "_".join(parts), "snap")
