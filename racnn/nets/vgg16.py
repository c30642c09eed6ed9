"""VGG-16 with the layer names and shapes of the model zoo's
``VGG_ILSVRC_16_layers`` (Simonyan & Zisserman's deploy prototxt: conv1_1 ..
conv5_3, pool1..pool5, fc6, fc7, fc8), so its ImageNet caffemodel loads by
name; input 224x224 (fc6 needs pool5 to be 7x7).  The zoo file has no
fillers; ours (Gaussian 0.01, bias 0; fc 0.005) only matter for layers that
are not loaded."""
from .layers import conv, constant, fc_head, gaussian, max_pool, relu

LAST = "fc8"
#: (block, number of 3x3 convolutions, channels)
BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))


def build(n, bottom, num_classes, last_name, params, aux_heads=False):
    """Add VGG-16 on top of ``bottom``; return (logits top, [])."""
    bb = params("backbone")
    x = bottom
    for block, count, channels in BLOCKS:
        for i in range(1, count + 1):
            x = conv(n, "conv%d_%d" % (block, i), x, channels, 3, pad=1, param=bb,
                     weight_filler=gaussian(0.01), bias_filler=constant(0))
            x = relu(n, "relu%d_%d" % (block, i), x)
        x = max_pool(n, "pool%d" % block, x, 2, 2)
    return fc_head(n, x, num_classes, last_name, params), []
