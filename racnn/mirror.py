"""Resources from a mirror or a copy: official servers go away (Stanford
Cars' addresses have answered 404 since 2023), so ``fetch_from`` takes the
same files from a mirror address, a local folder or an archive holding them,
checks the same checksums as racnn.fetch, and installs them as ``fetch``
does (tools/fetch.py NAME --from ...)."""
import os
import shutil
import tarfile
import tempfile
import zipfile

from . import fetch
from .atomic import atomic_path
from .errors import RacnnError


def _is_url(source):
    return "://" in source


def _from_url(res, spec, source):
    """The address of ``spec``'s file at the mirror ``source``: ``source``
    itself when a one-file resource's address names a file (its last part
    has an extension), else ``source/<filename>``."""
    last = source.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    if len(res.files) == 1 and not source.endswith("/") and "." in last:
        return source
    return source.rstrip("/") + "/" + spec.filename


def _find_in_folder(folder, filename):
    """The file named ``filename`` in ``folder`` or below it (first in sorted
    order), or None."""
    for dirpath, dirnames, names in sorted(os.walk(folder)):
        dirnames.sort()
        if filename in names:
            return os.path.join(dirpath, filename)
    return None


def _unpack_wanted(archive, filenames, into):
    """Copy the members of ``archive`` (tar, tar.gz, zip) whose base names are
    in ``filenames`` into the folder ``into`` (flat); nothing else is
    written, so the archive's other paths cannot escape."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                name = os.path.basename(info.filename)
                if name in filenames and not info.is_dir():
                    with zf.open(info) as src, open(os.path.join(into, name), "wb") as out:
                        shutil.copyfileobj(src, out, fetch.CHUNK)
        return
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                name = os.path.basename(member.name)
                if name in filenames and member.isfile():
                    with tar.extractfile(member) as src, \
                            open(os.path.join(into, name), "wb") as out:
                        shutil.copyfileobj(src, out, fetch.CHUNK)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise RacnnError("--from %s: cannot read it as a folder, a tar or a zip archive "
                         "holding the files (%s)" % (archive, exc))


def _install_local(src_file, spec, path, say):
    """Copy ``src_file`` to ``path`` through a temporary name, verifying the
    checksum before the rename (as ``download`` does for an address)."""
    say("copying %s" % src_file)
    with atomic_path(path) as tmp:
        shutil.copyfile(src_file, tmp)
        fetch.verify(tmp, spec, say)
        if os.path.isfile(tmp + ".sha256"):          # no published checksum: recorded
            os.replace(tmp + ".sha256", path + ".sha256")


def fetch_from(name, source, data_dir=None, force=False, say=print):
    """Make resource ``name`` present and verified from ``source``: a mirror
    address (``http(s)://`` or ``file://``: the files are fetched from
    ``source/<filename>``, or from ``source`` itself for a one-file
    resource), a local folder holding the files (searched below it too), or
    a local archive (tar, tar.gz, zip) holding them.  Every file must have
    the official checksum; then it is installed as ``fetch`` installs it.
    A missing file is a RacnnError naming every expected file and checksum."""
    res = fetch.resource(name)
    dest = fetch.destination(res, data_dir)
    if res.kind == "model":
        targets = [(res.files[0], dest)]
    else:
        targets = [(s, os.path.join(fetch.downloads_dir(data_dir), s.filename)) for s in res.files]
    if not force and _installed(res, data_dir):
        say("%s: already in place at %s (--force to install it again from %s)"
            % (res.name, dest, source))
        return dest
    if _is_url(source):
        for spec, path in targets:
            fetch.download(spec._replace(url=_from_url(res, spec, source)), path, say)
        return fetch.fetch(res, data_dir, say=say)
    source = os.path.abspath(source)
    if not os.path.exists(source):
        raise RacnnError("--from %s: no such folder, archive or address" % source)
    work = None
    try:
        if os.path.isfile(source) and os.path.basename(source) in [s.filename for s, _ in targets]:
            folder = os.path.dirname(source)        # one of the files itself
        elif os.path.isfile(source):
            os.makedirs(fetch.downloads_dir(data_dir), exist_ok=True)
            work = tempfile.mkdtemp(prefix=".from-", dir=fetch.downloads_dir(data_dir))
            _unpack_wanted(source, {s.filename for s, _ in targets}, work)
            folder = work
        else:
            folder = source
        found = [(spec, path, _find_in_folder(folder, spec.filename)) for spec, path in targets]
        missing = [spec.filename for spec, _, f in found if f is None]
        if missing:
            raise RacnnError(
                "--from %s lacks %s for %s (%s). Expected files (any folder depth; the "
                "checksums are verified):\n  %s" % (source, ", ".join(missing), res.name,
                                                    res.title,
                                                    "\n  ".join(fetch.expected_files(res))))
        for spec, path, src_file in found:
            _install_local(src_file, spec, path, say)
    finally:
        if work:
            shutil.rmtree(work, ignore_errors=True)
    return fetch.fetch(res, data_dir, say=say)


def _installed(res, data_dir):
    try:
        fetch.require(res, data_dir)
        return True
    except RacnnError:
        return False
