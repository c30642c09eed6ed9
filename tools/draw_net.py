#!/usr/bin/env python3
"""Draw a net prototxt as a picture with Caffe's own caffe.draw (graphviz).

  python3 tools/draw_net.py prototxt/alexnet/cars/racnn_deploy.prototxt docs/racnn_alexnet.png
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
    return p.parse_args(argv)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    import caffe
    import caffe.draw
    net = read_net(args.prototxt)
    ext = os.path.splitext(args.out)[1].lstrip(".").lower()
    if not ext:
        raise RacnnError("%s has no extension to choose the picture format" % args.out)
    phase = None if args.phase == "ALL" else getattr(caffe, args.phase)
    try:
        image = caffe.draw.draw_net(net, args.rankdir, ext=ext, phase=phase)
    except Exception as exc:  # pydot/graphviz report bad formats in many ways
        raise RacnnError("cannot draw %s as %s: %s" % (args.prototxt, ext, exc))
    with atomic_file(args.out, "wb") as fh:
        fh.write(image)
    print("wrote %s" % args.out)


if __name__ == "__main__":
    main()
