"""A small CNN for the CPU demo (input 64x64): three conv/ReLU/max-pool
stages and two fully connected layers.  Not part of the paper; it exists so
the whole pipeline (including RACNN's SR front) trains in minutes on a CPU.
There are no ImageNet weights for it: every layer starts from its filler."""
from .layers import conv, constant, dropout, fc, gaussian, max_pool, relu, xavier

LAST = "fc7"


def build(n, bottom, num_classes, last_name, params, aux_heads=False):
    """Add the tiny CNN on top of ``bottom``; return (logits top, [])."""
    bb = params("backbone")
    x = conv(n, "conv1", bottom, 32, 5, pad=2, param=bb,
             weight_filler=xavier(), bias_filler=constant(0))
    x = relu(n, "relu1", x)
    x = max_pool(n, "pool1", x, 3, 2)      # 64 -> 32
    x = conv(n, "conv2", x, 64, 3, pad=1, param=bb,
             weight_filler=xavier(), bias_filler=constant(0))
    x = relu(n, "relu2", x)
    x = max_pool(n, "pool2", x, 3, 2)      # 32 -> 16
    x = conv(n, "conv3", x, 64, 3, pad=1, param=bb,
             weight_filler=xavier(), bias_filler=constant(0))
    x = relu(n, "relu3", x)
    x = max_pool(n, "pool3", x, 3, 2)      # 16 -> 8
    x = fc(n, "fc6", x, 256, param=bb, weight_filler=xavier(), bias_filler=constant(0))
    x = relu(n, "relu6", x)
    x = dropout(n, "drop6", x, 0.5)
    logits = fc(n, last_name, x, num_classes, param=params("last"),
                weight_filler=gaussian(0.01), bias_filler=constant(0))
    return logits, []
