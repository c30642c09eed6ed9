"""Net generators: zoo backbones (alexnet, vgg16, googlenet, tiny), the SR
front, multiplier presets and the builders whose output is committed in
prototxt/ (see prototxt/README.md).

Main entry points::

    build_net(backbone, num_classes, *, dataset=None, racnn=False, sr_init="g",
              mode="e2e", mults="paper", phase="train_val", ...) -> NetParameter
    build_sr_pretrain(source, batch_size=32, mults="release", patch=51, ...)
    build_sr_deploy(height, width)
    last_layer_name(backbone, dataset), new_layers(...), layout.*_path(...)
"""
from . import layout, presets
from .build import (BACKBONE_MODULES, DEFAULT_BATCH, IMAGENET_MEAN_BGR, build_net,
                    build_sr_deploy, build_sr_pretrain, last_layer_name, new_layers,
                    param_layer_names, write_net)
from .sr_front import OUTPUT as SR_OUTPUT
from .sr_front import SR_NAMES

__all__ = ["layout", "presets", "build_net", "build_sr_pretrain", "build_sr_deploy",
           "last_layer_name", "new_layers", "param_layer_names", "write_net",
           "BACKBONE_MODULES", "DEFAULT_BATCH", "IMAGENET_MEAN_BGR", "SR_NAMES", "SR_OUTPUT"]
