#!/usr/bin/env python3
"""Initialise a net from several caffemodels in order (like
`caffe train --weights a,b`: later files override earlier ones), print where
every parameter blob came from, and save the merged caffemodel.  Fails when a
blob is neither loaded nor in a layer listed with --new, and on shape
mismatches.

  python3 tools/init_weights.py prototxt/alexnet/cars/racnn_deploy.prototxt \\
      data/models/bvlc_alexnet.caffemodel data/models/rsrcnn_authors.caffemodel \\
      --new fc8_cars --swap-sr-rgb-to-bgr --out runs/x/init.caffemodel
"""
import json

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn.atomic import write_text
from racnn.errors import cli_main


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("prototxt", help="deploy or train/val net (Data layers need no database)")
    p.add_argument("caffemodels", nargs="+", help="weights, in load order")
    p.add_argument("--out", required=True, help="merged .caffemodel to write")
    p.add_argument("--new", default="", metavar="LAYER[,LAYER...]",
                   help="layers expected to keep their filler initialisation")
    p.add_argument("--swap-sr-rgb-to-bgr", action="store_true",
                   help="the SR weights are RGB (the authors'): reverse sconv1 input and "
                        "sconv3 output channels for our BGR data")
    p.add_argument("--audit-json", help="also write the audit as JSON here")
    return p.parse_args(argv)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    from racnn import weights
    new = [x.strip() for x in args.new.split(",") if x.strip()]
    audit = weights.init_caffemodel(args.prototxt, args.caffemodels, args.out,
                                    expected_new=new, swap_sr_rgb_to_bgr=args.swap_sr_rgb_to_bgr)
    print(audit.format())
    if args.audit_json:
        write_text(args.audit_json, json.dumps(audit.to_dict(), indent=1) + "\n")
    print("wrote %s" % args.out)


if __name__ == "__main__":
    main()
