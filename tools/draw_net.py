#!/usr/bin/env python3
"""Draw a net prototxt as a picture with Caffe's own caffe.draw (graphviz).

  python3 tools/draw_net.py prototxt/alexnet/cars/racnn_deploy.prototxt out.png
  python3 tools/draw_net.py --rankdir TB --fold-inplace \\
      prototxt/alexnet/cars/racnn_deploy.prototxt docs/racnn_alexnet.png    (make draw)

--fold-inplace draws each in-place layer (ReLU, Dropout) inside the box of the
layer it follows ("conv1 + relu1"): the graph becomes one column that stays
readable at the width of a README, instead of drifting sideways.
"""
import os

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn.atomic import atomic_file
from racnn.errors import RacnnError, cli_main
from racnn.protoio import read_net


PHASES = ("ALL", "TRAIN", "TEST")


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("prototxt")
    p.add_argument("out", help="picture to write; the extension picks the format (.png, .svg, .pdf)")
    p.add_argument("--rankdir", default="LR", choices=("LR", "TB", "BT", "RL"),
                   help="graph direction (default: %(default)s, left to right)")
    p.add_argument("--phase", default="ALL", choices=PHASES,
                   help="draw only the layers of this phase (default: %(default)s)")
    p.add_argument("--fold-inplace", action="store_true",
                   help="draw in-place layers (ReLU, Dropout) inside the box of the layer "
                   "before them")
    return p.parse_args(argv)


def fold_inplace(net):
    """``net`` without its in-place layers (top == bottom), each named in
    the name of the layer whose output it rewrites (``conv1 + relu1``)."""
    from caffe.proto import caffe_pb2
    producer = {}
    kept = []
    for layer in net.layer:
        layer = caffe_pb2.LayerParameter.FromString(layer.SerializeToString())
        if len(layer.top) == 1 and list(layer.top) == list(layer.bottom) and \
                layer.top[0] in producer:
            owner = producer[layer.top[0]]
            owner.name = "%s + %s" % (owner.name, layer.name)
            continue
        kept.append(layer)
        for top in layer.top:
            producer[top] = layer
    del net.layer[:]
    net.layer.extend(kept)
    return net


@cli_main
def main(argv=None):
    args = parse_args(argv)
    import caffe
    import caffe.draw
    net = read_net(args.prototxt)
    if args.fold_inplace:
        net = fold_inplace(net)
    ext = os.path.splitext(args.out)[1].lstrip(".").lower()
    if not ext:
        raise RacnnError("%s has no extension to choose the picture format" % args.out)
    phase = None if args.phase == "ALL" else getattr(caffe, args.phase)
    try:
        graph = caffe.draw.get_pydot_graph(net, args.rankdir, phase=phase)
        if args.fold_inplace:     # one column: closer rows keep it short
            graph.set_ranksep("0.2")
        image = graph.create(format=ext)
    except Exception as exc:  # pydot/graphviz report bad formats in many ways
        raise RacnnError("cannot draw %s as %s: %s" % (args.prototxt, ext, exc))
    with atomic_file(args.out, "wb") as fh:
        fh.write(image)
    print("wrote %s" % args.out)


if __name__ == "__main__":
    main()
