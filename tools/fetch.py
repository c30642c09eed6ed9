#!/usr/bin/env python3
"""Download the datasets and weights the experiments need, verify their
checksums and put them where the tools look (data/datasets/<name>/,
data/models/<name>.caffemodel).  Re-running is cheap: what is in place is
verified and kept.  An archive put in data/downloads/ by hand (e.g. from a
mirror when an official server is offline) is verified and used.

  python3 tools/fetch.py --list
  python3 tools/fetch.py birds bvlc_alexnet rsrcnn_authors
  python3 tools/fetch.py datasets          # all three datasets (groups: datasets, models, all)
  python3 tools/fetch.py cars --from /media/mirror/cars/       # a folder holding the files
  python3 tools/fetch.py cars --from cars_files.tar             # an archive holding them
  python3 tools/fetch.py cars --from https://mirror.example/cars/   # a mirror address

--from takes every file of the resource from there instead of the official
address (Stanford Cars' has answered 404 since 2023), checks the same
checksums and installs it as usual; --list names the files and checksums.
"""
import sys

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn import fetch, mirror
from racnn.errors import RacnnError, cli_main


def parser():
    p = tool_parser(__doc__)
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="resources or groups (see --list)")
    p.add_argument("--list", action="store_true", help="list the resources and exit")
    p.add_argument("--data-dir", help="instead of data/ (RACNN_DATA)")
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.add_argument("--from", dest="source", metavar="URL_OR_FOLDER_OR_ARCHIVE",
                   help="take the files from a mirror address, a local folder or an archive "
                   "holding them (same checksums)")
    p.add_argument("--check", action="store_true",
                   help="only report whether each resource is in place (exit 1 if not)")
    return p


@cli_main
def main(argv=None):
    args = parser().parse_args(argv)
    if args.list or not args.names:
        for name, res in fetch.RESOURCES.items():
            sums = ", ".join("%s %s" % (s.algo, s.checksum) if s.checksum else "no published checksum"
                             for s in res.files)
            print("%-15s %-7s %s\n%17s-> %s  [%s]" % (name, res.kind, res.title, "",
                                                     fetch.destination(res, args.data_dir), sums))
        print("groups: %s" % ", ".join("%s (%s)" % (g, " ".join(n)) for g, n in
                                      sorted(fetch.GROUPS.items())))
        return 0
    names = []
    for n in args.names:
        names.extend(fetch.GROUPS.get(n, [n]))
    missing = 0
    for name in names:
        if args.check:
            try:
                print("%s: %s" % (name, fetch.require(name, args.data_dir)))
            except RacnnError as exc:
                print("%s: missing (%s)" % (name, str(exc).splitlines()[0]))
                missing += 1
            continue
        if args.source:
            path = mirror.fetch_from(name, args.source, args.data_dir, force=args.force)
        else:
            path = fetch.fetch(name, args.data_dir, force=args.force)
        print("%s: ready at %s" % (name, path))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
