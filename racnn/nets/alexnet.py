"""AlexNet with the layer names and shapes of the BVLC model zoo's
``bvlc_alexnet`` (models/bvlc_alexnet/deploy.prototxt), so its ImageNet
caffemodel loads by name; input 227x227.  Fillers follow the zoo's
train_val.prototxt (they only matter for layers that are not loaded)."""
from .layers import conv, constant, fc_head, gaussian, lrn, max_pool, relu

#: the zoo layer the new dataset-specific last layer replaces
LAST = "fc8"


def build(n, bottom, num_classes, last_name, params, aux_heads=False):
    """Add AlexNet on top of ``bottom``; return (logits top, [])."""
    bb = params("backbone")
    x = conv(n, "conv1", bottom, 96, 11, stride=4, param=bb,
             weight_filler=gaussian(0.01), bias_filler=constant(0))
    x = relu(n, "relu1", x)
    x = lrn(n, "norm1", x)
    x = max_pool(n, "pool1", x, 3, 2)
    x = conv(n, "conv2", x, 256, 5, pad=2, group=2, param=bb,
             weight_filler=gaussian(0.01), bias_filler=constant(0.1))
    x = relu(n, "relu2", x)
    x = lrn(n, "norm2", x)
    x = max_pool(n, "pool2", x, 3, 2)
    x = conv(n, "conv3", x, 384, 3, pad=1, param=bb,
             weight_filler=gaussian(0.01), bias_filler=constant(0))
    x = relu(n, "relu3", x)
    x = conv(n, "conv4", x, 384, 3, pad=1, group=2, param=bb,
             weight_filler=gaussian(0.01), bias_filler=constant(0.1))
    x = relu(n, "relu4", x)
    x = conv(n, "conv5", x, 256, 3, pad=1, group=2, param=bb,
             weight_filler=gaussian(0.01), bias_filler=constant(0.1))
    x = relu(n, "relu5", x)
    x = max_pool(n, "pool5", x, 3, 2)
    return fc_head(n, x, num_classes, last_name, params), []
