"""The SR front of RACNN exactly as in docs/METHOD.md ("The SR front"): three
convolutions and a residual sum, with the layer names of the authors'
released SR weights (``sconv1``..``sconv3``) so those weights load by name.

    data -> sconv1 9x9/64 pad 4 -> srelu1 -> sconv2 5x5/32 pad 2 -> srelu2
         -> sconv3 5x5/3 pad 2;  sum = data + sconv3  (Eltwise SUM)

Fillers as in the released files: Gaussian std 0.001, bias 0."""
from caffe import layers as L
from caffe import params as P

from .layers import constant, conv, gaussian, relu

#: (name, outputs, kernel, pad, ReLU name or None)
SR_LAYERS = (
    ("sconv1", 64, 9, 4, "srelu1"),
    ("sconv2", 32, 5, 2, "srelu2"),
    ("sconv3", 3, 5, 2, None),
)
SR_NAMES = tuple(layer[0] for layer in SR_LAYERS)
#: the blob the SR front hands to the classifier
OUTPUT = "sum"


def add_sr_front(n, data, params):
    """Add sconv1..3 and ``sum`` on top of the 3-channel blob ``data``;
    ``params(role)`` gives each layer's param blocks.  Returns the ``sum`` top."""
    x = data
    for name, outputs, kernel, pad, relu_name in SR_LAYERS:
        x = conv(n, name, x, outputs, kernel, pad=pad, param=params(name),
                 weight_filler=gaussian(0.001), bias_filler=constant(0))
        if relu_name:
            x = relu(n, relu_name, x)
    n[OUTPUT] = L.Eltwise(data, x, operation=P.Eltwise.SUM)
    return n[OUTPUT]
