"""`caffe time` forward-backward of AlexNet and RACNN-AlexNet (batch 8,
227x227, random weights, end-to-end multipliers so every layer back-propagates)
with OpenBLAS and with the reference BLAS, and the ratios.  Run inside the
environment (bench/bench_env.sh does).  Prints one table; nothing is asserted:
the figures are for the README and the closing notes."""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from racnn import paper  # noqa: E402
from racnn.report.timing import time_net

REFERENCE_BLAS_DIR = "/usr/lib/x86_64-linux-gnu/blas"   # Debian's libblas3


def _linked(library, name, env):
    """What ``name`` resolves to in ``ldd library`` under ``env`` (or None)."""
    out = subprocess.run(["ldd", library], stdout=subprocess.PIPE, env=env,
                         universal_newlines=True).stdout
    for line in out.splitlines():
        if name in line and "=>" in line:
            return line.split("=>")[1].split("(")[0].strip()
    return None


def blas_in_use(env):
    """What libblas.so.3 resolves to for `caffe` under ``env`` (caffe links
    libcaffe, which links BLAS)."""
    libcaffe = _linked("/usr/bin/caffe", "libcaffe", env)
    blas = _linked(libcaffe, "libblas.so.3", env) if libcaffe else None
    return os.path.realpath(blas) if blas else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iterations", type=int, default=5, help="caffe time -iterations with OpenBLAS")
    ap.add_argument("--reference-iterations", type=int, default=1,
                    help="with the reference BLAS (RACNN-AlexNet takes ~1 min per iteration)")
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()

    settings = [("OpenBLAS", {}, args.iterations)]
    if os.path.isdir(REFERENCE_BLAS_DIR):
        settings.append(("reference", {"LD_LIBRARY_PATH": REFERENCE_BLAS_DIR},
                         args.reference_iterations))
    else:
        print("reference BLAS not installed (%s); skipping it" % REFERENCE_BLAS_DIR)

    results = {}
    saved = dict(os.environ)
    for blas, extra, iters in settings:
        os.environ.clear()
        os.environ.update(saved)
        os.environ.update(extra)
        print("BLAS %-9s -> %s" % (blas, blas_in_use(dict(os.environ))), flush=True)
        for racnn in (False, True):
            r = time_net("alexnet", racnn, mode="e2e", batch_size=args.batch, iterations=iters)
            results[blas, racnn] = r["forward_backward_ms"] / 1000.0
            print("  %-13s %8.2f s per forward-backward (batch %d, %d iterations)" % (
                "RACNN-AlexNet" if racnn else "AlexNet", results[blas, racnn], args.batch, iters),
                flush=True)
    os.environ.clear()
    os.environ.update(saved)

    paper_ratio = paper.TABLE_I["alexnet", True]["cars"] / float(paper.TABLE_I["alexnet", False]["cars"])
    print()
    print("| BLAS | AlexNet s/iter | RACNN-AlexNet s/iter | RACNN/AlexNet | paper Table I (Cars) |")
    print("|---|---|---|---|---|")
    for blas, _, _ in settings:
        a, r = results[blas, False], results[blas, True]
        print("| %s | %.2f | %.2f | %.1fx | %.1fx |" % (blas, a, r, r / a, paper_ratio))
    if ("reference", False) in results:
        print()
        print("OpenBLAS speed-up over the reference BLAS: AlexNet %.1fx, RACNN-AlexNet %.1fx "
              "(target >= 10x)" % (results["reference", False] / results["OpenBLAS", False],
                                   results["reference", True] / results["OpenBLAS", True]))


if __name__ == "__main__":
    main()
