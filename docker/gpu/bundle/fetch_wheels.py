#!/usr/bin/env python3
"""Fetch NVIDIA's CUDA wheels named in docker/gpu/cuda-wheels.txt from PyPI and
unpack their libraries into a site-packages folder, with the standard library
only (no pip): what a GPU machine's Python has, for the bundle's portability
test (docker/gpu/bundle/test-bare.sh).

  fetch_wheels.py --roles runtime,cudnn --cache DIR --site-packages DIR

Each wheel comes from PyPI's JSON API (https://pypi.org/pypi/<name>/json: the
release's manylinux x86_64 file, its sha256), is downloaded once into --cache
(checked against that sha256, written under a temporary name, renamed when
complete) and unpacked into --site-packages (only nvidia/*/lib and the
.dist-info; members with absolute or .. paths are refused). Prints each
wheel's size. Exit 1 with one line on failure.
"""
import argparse
import hashlib
import json
import os
import ssl
import sys
import urllib.parse
import urllib.request
import zipfile

WHEELS_TXT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "cuda-wheels.txt")
INDEX = os.environ.get("RACNN_PYPI_JSON", "https://pypi.org/pypi")


def die(msg):
    sys.exit("fetch_wheels.py: error: %s" % msg)


def pins(roles):
    out = []
    with open(WHEELS_TXT) as fh:
        for line in fh:
            f = line.split()
            if len(f) == 2 and not f[0].startswith("#") and f[0] in roles:
                name, version = f[1].split("==")
                out.append((name, version))
    return out


def context():
    ctx = ssl.create_default_context()
    for ca in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if os.path.isfile(ca):
            ctx.load_verify_locations(ca)
    return ctx


def release_file(name, version):
    url = "%s/%s/json" % (INDEX, name)
    try:
        with urllib.request.urlopen(url, timeout=60, context=context()) as r:
            meta = json.load(r)
    except (OSError, ValueError) as e:
        die("%s: %s" % (url, e))
    files = [f for f in meta.get("releases", {}).get(version, [])
             if f["filename"].endswith(".whl") and "x86_64" in f["filename"]
             and "manylinux" in f["filename"]]
    if not files:
        die("%s==%s: no manylinux x86_64 wheel on PyPI" % (name, version))
    f = dict(files[0])
    f["url"] = urllib.parse.urljoin(url, f["url"])      # a mirror may give relative addresses
    return f


def fetch(f, cache):
    path = os.path.join(cache, f["filename"])
    want = f["digests"]["sha256"]
    if os.path.isfile(path):
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() == want:
            return path, False
        os.unlink(path)
    tmp = path + ".partial"
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(f["url"], timeout=120, context=context()) as r, \
                open(tmp, "wb") as out:
            for block in iter(lambda: r.read(1 << 20), b""):
                h.update(block)
                out.write(block)
    except OSError as e:
        die("%s: %s" % (f["url"], e))
    if h.hexdigest() != want:
        os.unlink(tmp)
        die("%s: sha256 %s, PyPI says %s" % (f["filename"], h.hexdigest(), want))
    os.rename(tmp, path)
    return path, True


def unpack(path, site):
    with zipfile.ZipFile(path) as z:
        for m in z.infolist():
            n = m.filename
            if n.startswith("/") or ".." in n.split("/"):
                die("%s: unsafe member %s" % (path, n))
            parts = n.split("/")
            keep = (len(parts) >= 3 and parts[0] == "nvidia" and parts[2] == "lib") or \
                parts[0].endswith(".dist-info")
            if keep and not n.endswith("/"):
                z.extract(m, site)
                mode = m.external_attr >> 16
                if mode:
                    os.chmod(os.path.join(site, n), mode & 0o777)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--roles", default="runtime,cudnn")
    p.add_argument("--cache", required=True)
    p.add_argument("--site-packages", required=True)
    a = p.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    os.makedirs(a.site_packages, exist_ok=True)
    total = 0
    for name, version in pins(a.roles.split(",")):
        f = release_file(name, version)
        path, new = fetch(f, a.cache)
        unpack(path, a.site_packages)
        total += f["size"]
        print("%-22s %-12s %6.1f MiB %s" % (name, version, f["size"] / 2.0 ** 20,
                                            "downloaded" if new else "cached"))
    print("%-35s %6.1f MiB" % ("total", total / 2.0 ** 20))


if __name__ == "__main__":
    main()
