"""Downloads with checksums: the three datasets' official files, the BVLC
model-zoo ImageNet weights and the authors' SR weights.

``fetch(name)`` downloads every file of a resource to a temporary name,
verifies its checksum, and then moves it into place (archives are extracted
safely: absolute paths, ``..`` members, links and devices are refused).  It
is idempotent: what is already in place (or an archive the user put in
``data/downloads/`` by hand) is verified and reused.  ``require(name)``
returns the path of a fetched resource or raises a RacnnError naming it,
where it must be put, and the command that fetches it.

Places: datasets in ``data/datasets/<name>/`` (the folder the adapters of
racnn.datasets read), weights in ``data/models/<name>.caffemodel``,
downloaded archives in ``data/downloads/`` (``racnn.paths.DATA_DIR``).
"""
import collections
import hashlib
import http.client
import os
import shutil
import tarfile
import urllib.request

from . import paths, vocab
from .atomic import atomic_path
from .errors import RacnnError
from .progress import progress

FileSpec = collections.namedtuple("FileSpec", "url filename checksum algo extract")
Resource = collections.namedtuple("Resource", "name title kind files dest marker source")


def _f(url, checksum, algo, extract=False):
    return FileSpec(url, url.rsplit("/", 1)[-1].split("?")[0], checksum, algo, extract)


_CARS = "https://ai.stanford.edu/~jkrause/car196/"
_FLOWERS = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/"
_ZOO = "http://dl.caffe.berkeleyvision.org/"
_RACNN = ("https://github.com/dingdingcai/RACNN/raw/81d0caea7aa485b8342ad5cd6374bb10e516daa5/"
          "RSRCNN_train/RSRCNN_model/RSRCNN_model.caffemodel")

#: Every resource: official URLs and checksums (md5 of the dataset files as
#: published with torchvision's loaders for Cars and Flowers and with public
#: CUB loaders; SHA-1 from the Caffe model-zoo readmes; sha256 of the
#: authors' file).  None = no published checksum: the sha256 of the first
#: download is recorded and checked afterwards.
RESOURCES = collections.OrderedDict((r.name, r) for r in [
    Resource("cars", "Stanford Cars (196 classes)", "dataset", (
        _f(_CARS + "cars_train.tgz", "065e5b463ae28d29e77c1b4b166cfe61", "md5", True),
        _f(_CARS + "cars_test.tgz", "4ce7ebf6a94d07f1952d94dd34c4d501", "md5", True),
        _f("https://ai.stanford.edu/~jkrause/cars/car_devkit.tgz",
           "c3b158d763b6e2245038c8ad08e45376", "md5", True),
        _f(_CARS + "cars_test_annos_withlabels.mat", "b0a2b23655a3edd16d84508592a98d10", "md5")),
        "datasets/cars", ("devkit/cars_meta.mat", "devkit/cars_train_annos.mat",
                          "cars_test_annos_withlabels.mat", "cars_train", "cars_test"),
        "https://ai.stanford.edu/~jkrause/cars/car_dataset.html (offline since 2023: take "
        "the four files from a mirror with --from; their md5 is checked)"),
    Resource("birds", "CUB-200-2011 (200 classes)", "dataset", (
        _f("https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz",
           "97eceeb196236b17998738112f37df78", "md5", True),),
        "datasets/birds", ("CUB_200_2011/images.txt", "CUB_200_2011/images"),
        "https://www.vision.caltech.edu/datasets/cub_200_2011/"),
    Resource("flowers", "Oxford 102 Flowers (102 classes)", "dataset", (
        _f(_FLOWERS + "102flowers.tgz", "52808999861908f626f3c1f4e79d11fa", "md5", True),
        _f(_FLOWERS + "imagelabels.mat", "e0620be6f572b9609742df49c70aed4d", "md5"),
        _f(_FLOWERS + "setid.mat", "a5357ecc9cb78c4bef273ce3793fc85c", "md5")),
        "datasets/flowers", ("imagelabels.mat", "setid.mat", "jpg"),
        "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/"),
    Resource("bvlc_alexnet", "BVLC AlexNet (ImageNet)", "model", (
        _f(_ZOO + "bvlc_alexnet.caffemodel", "9116a64c0fbe4459d18f4bb6b56d647b63920377", "sha1"),),
        "models/bvlc_alexnet.caffemodel", (), "Caffe model zoo: models/bvlc_alexnet/readme.md"),
    Resource("vgg16", "VGG_ILSVRC_16_layers (ImageNet)", "model", (
        _f("http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/"
           "VGG_ILSVRC_16_layers.caffemodel", None, None),),
        "models/vgg16.caffemodel", (),
        "model-zoo gist ksimonyan/211839e770f7b538e2d8 (its readme gives no SHA-1)"),
    Resource("bvlc_googlenet", "BVLC GoogLeNet (ImageNet)", "model", (
        _f(_ZOO + "bvlc_googlenet.caffemodel", "405fc5acd08a3bb12de8ee5e23a96bec22f08204", "sha1"),),
        "models/bvlc_googlenet.caffemodel", (), "Caffe model zoo: models/bvlc_googlenet/readme.md"),
    Resource("rsrcnn_authors", "the RACNN authors' SR weights (sconv1-3, RGB)", "model", (
        _f(_RACNN, "77fb3d9f84c2a5ffee7a18724c0a3e016a1369a217644f8087a8dd16ca34fb01", "sha256"),),
        "models/rsrcnn_authors.caffemodel", (),
        "github.com/dingdingcai/RACNN RSRCNN_train/RSRCNN_model/RSRCNN_model.caffemodel"),
])
#: other names of the resources: the dataset aliases of racnn.vocab and the weights' own
ALIASES = dict(vocab.DATASET_ALIASES, alexnet="bvlc_alexnet", googlenet="bvlc_googlenet",
               VGG_ILSVRC_16_layers="vgg16", authors_sr="rsrcnn_authors")
GROUPS = {"datasets": [n for n, r in RESOURCES.items() if r.kind == "dataset"],
          "models": [n for n, r in RESOURCES.items() if r.kind == "model"]}
GROUPS["all"] = list(RESOURCES)
CHUNK = 1 << 20


def resource(name):
    """The Resource of a name or alias (a Resource is returned as is)."""
    if isinstance(name, Resource):
        return name
    key = ALIASES.get(name, name)
    if key not in RESOURCES:
        raise RacnnError("unknown resource %r; valid: %s (groups: %s)"
                         % (name, ", ".join(RESOURCES), ", ".join(sorted(GROUPS))))
    return RESOURCES[key]


def destination(res, data_dir=None):
    return os.path.join(data_dir or paths.DATA_DIR, res.dest)


def downloads_dir(data_dir=None):
    return os.path.join(data_dir or paths.DATA_DIR, "downloads")


def fetch_command(res):
    """The command that fetches ``res``, as typed on the host (docker/run also
    works inside the environment, where it runs the command directly)."""
    return "docker/run python3 tools/fetch.py %s" % res.name


# ------------------------------------------------------------ checksums ---

def file_digest(path, algo):
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _recorded(path):
    """sha256 recorded beside a file that has no published checksum."""
    rec = path + ".sha256"
    if os.path.isfile(rec):
        with open(rec) as fh:
            return fh.read().split()[0]
    return None


def verify(path, spec, say=print):
    """Check ``path`` against ``spec``'s checksum (or the sha256 recorded on
    the first download); RacnnError on a mismatch."""
    algo, want = spec.algo, spec.checksum
    if want is None:
        want, algo = _recorded(path), "sha256"
        if want is None:
            got = file_digest(path, "sha256")
            say("%s: no published checksum; recording sha256 on first download: %s"
                % (spec.filename, got))
            with open(path + ".sha256", "w") as fh:
                fh.write("%s  %s\n" % (got, spec.filename))
            return
    got = file_digest(path, algo)
    if got != want.lower():
        raise RacnnError("%s: %s checksum mismatch (expected %s, got %s); the file is corrupt "
                         "or not the official one (%s). Delete it and fetch again."
                         % (path, algo, want, got, spec.url))


# ------------------------------------------------------------- download ---

def download(spec, path, say=print):
    """Download ``spec.url`` to ``path`` through a temporary name, verifying
    the checksum before the rename (http, https and file URLs)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".partial"
    say("downloading %s" % spec.url)
    try:
        with urllib.request.urlopen(spec.url, timeout=60) as resp, open(tmp, "wb") as out:
            total = resp.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            bar = progress(total=total, desc=spec.filename, unit="B", unit_scale=True)
            received = 0
            try:
                for block in iter(lambda: resp.read(CHUNK), b""):
                    out.write(block)
                    received += len(block)
                    bar.update(len(block))
            finally:
                bar.close()
        # a connection closed early ends the body without an error: without a
        # published checksum, a short file would be installed and its hash
        # recorded as the truth
        if total is not None and received != total:
            raise RacnnError("could not download %s: the server announced %d bytes and sent "
                             "%d (connection cut); nothing was installed, fetch again"
                             % (spec.url, total, received))
        verify(tmp, spec, say)
        if os.path.isfile(tmp + ".sha256"):
            os.replace(tmp + ".sha256", path + ".sha256")
        os.replace(tmp, path)
    except (OSError, http.client.HTTPException) as exc:   # URLError, HTTPError, sockets
        raise RacnnError("could not download %s: %s" % (spec.url, exc))
    finally:
        for leftover in (tmp, tmp + ".sha256"):
            if os.path.exists(leftover):
                os.remove(leftover)


def _safe_members(tar, archive):
    for m in tar.getmembers():
        name = m.name.replace("\\", "/")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if name.startswith("/") or os.path.isabs(m.name) or ".." in parts or \
                (len(name) > 1 and name[1] == ":"):
            raise RacnnError("%s: refusing unsafe member %r (absolute path or '..')"
                             % (archive, m.name))
        if m.issym() or m.islnk():
            raise RacnnError("%s: refusing link member %r" % (archive, m.name))
        if not (m.isfile() or m.isdir()):
            raise RacnnError("%s: refusing special member %r (device or fifo)" % (archive, m.name))
        yield m


def extract(archive, dest):
    """Extract a tar archive into ``dest`` safely: every member is checked
    before anything is written, and the files are extracted beside ``dest``
    and moved in only when all are out."""
    import tempfile
    try:
        with tarfile.open(archive) as tar:
            members = list(_safe_members(tar, archive))
            os.makedirs(dest, exist_ok=True)
            tmp = tempfile.mkdtemp(prefix=".extract-", suffix=".partial", dir=dest)
            try:
                tar.extractall(tmp, members=members)
                for entry in os.listdir(tmp):
                    target = os.path.join(dest, entry)
                    if os.path.isdir(target) and not os.path.islink(target):
                        shutil.rmtree(target)
                    elif os.path.lexists(target):
                        os.remove(target)
                    os.rename(os.path.join(tmp, entry), target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise RacnnError("cannot extract %s: %s" % (archive, exc))


# ---------------------------------------------------------------- fetch ---

def _stamp(dest, spec):
    return os.path.join(dest, ".fetched-" + spec.filename)


def fetch(name, data_dir=None, force=False, say=print):
    """Make resource ``name`` present and verified; returns its path."""
    res = resource(name)
    dest = destination(res, data_dir)
    for spec in res.files:
        if res.kind == "model":
            if os.path.isfile(dest) and not force:
                verify(dest, spec, say)
                say("%s: present and verified (%s)" % (res.name, dest))
                continue
            download(spec, dest, say)
            continue
        stamp = _stamp(dest, spec)
        if os.path.isfile(stamp) and not force:
            say("%s: %s already in place" % (res.name, spec.filename))
            continue
        archive = os.path.join(downloads_dir(data_dir), spec.filename)
        if os.path.isfile(archive) and not force:
            say("%s: verifying %s" % (res.name, archive))
            verify(archive, spec, say)
        else:
            download(spec, archive, say)
        if spec.extract:
            say("%s: extracting %s into %s" % (res.name, spec.filename, dest))
            extract(archive, dest)
        else:
            with atomic_path(os.path.join(dest, spec.filename)) as tmp:
                shutil.copyfile(archive, tmp)
        with open(stamp, "w") as fh:
            fh.write("%s %s %s\n" % (spec.filename, spec.algo or "sha256",
                                     spec.checksum or _recorded(archive)))
    require(res, data_dir)
    return dest


def expected_files(res):
    """One line per file of ``res``: its name and checksum, as the
    messages name them."""
    return ["%s  %s %s" % (s.filename, s.algo or "sha256", s.checksum or
                           "(no published checksum: recorded on first install)")
            for s in res.files]


def require(name, data_dir=None):
    """The path of a fetched resource, or a RacnnError naming it, where it
    must be put and the command that fetches it."""
    res = resource(name)
    dest = destination(res, data_dir)
    if res.kind == "model":
        missing = [] if os.path.isfile(dest) else [dest]
    else:
        missing = [m for m in res.marker if not os.path.exists(os.path.join(dest, m))]
    if missing:
        if res.kind == "model":
            where = "save it as %s" % dest
            what, detail = "weights", ""
        else:
            where = "put %s in %s" % (" and ".join(s.filename for s in res.files),
                                      downloads_dir(data_dir))
            what, detail = "dataset", " (missing: %s)" % ", ".join(missing)
        raise RacnnError(
            "%s %s (%s) is missing: expected %s%s.\nFetch it with: %s\n(or download %s "
            "yourself (%s), %s, and run `%s` to verify and install it;\nor from a mirror, a "
            "folder or an archive holding the files: %s --from URL_OR_FOLDER_OR_ARCHIVE; "
            "expected files:\n  %s)"
            % (what, res.name, res.title, dest, detail, fetch_command(res),
               " and ".join(s.url for s in res.files), res.source, where, fetch_command(res),
               fetch_command(res), "\n  ".join(expected_files(res))))
    return dest
