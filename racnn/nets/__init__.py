"""Net generators: zoo backbones (alexnet, vgg16, googlenet, tiny), the SR
front, multiplier presets and the builders whose output is committed in
prototxt/ (see prototxt/README.md).

Main entry points::

    build_net(backbone, num_classes, *, dataset=None, racnn=False, sr_init="g",
              mode="e2e", mults="paper", phase="train_val", ...) -> NetParameter
    build_sr_pretrain(source, batch_size=32, mults="release", patch=51, ...)
    build_sr_deploy(height, width)
    last_layer_name(backbone, dataset), new_layers(...), layout.*_path(...)

``layout`` (where the committed files live) and ``presets`` are pure Python
and imported with the package; the builders import pycaffe, so they are
loaded when first named (``from racnn.nets import build_net``), and
``racnn.nets.layout`` stays readable where Caffe is not installed (the sweep
tool on a cluster's login node).
"""
import importlib

from . import layout, presets

#: the names the builders' modules provide: {name: (module, attribute)}
_LAZY = dict([(n, ("build", n)) for n in (
    "BACKBONE_MODULES", "DEFAULT_BATCH", "IMAGENET_MEAN_BGR", "build_net", "build_sr_deploy",
    "build_sr_pretrain", "last_layer_name", "new_layers", "param_layer_names", "write_net")]
    + [("SR_OUTPUT", ("sr_front", "OUTPUT")), ("SR_NAMES", ("sr_front", "SR_NAMES"))])

__all__ = ["layout", "presets"] + sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    module, attr = _LAZY[name]
    value = getattr(importlib.import_module("." + module, __name__), attr)
    globals()[name] = value
    return value
