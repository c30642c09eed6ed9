"""``caffe time`` of the training nets, the measurement behind Table I.

``time_net(backbone, racnn, ...)`` builds the training net (racnn.nets,
Data layers swapped for DummyData of the training batch size) and runs
Caffe's own ``caffe time`` on it (forward + backward in the TRAIN phase;
layers with lr_mult 0 and nothing to back-propagate to are skipped by Caffe,
which is why the frozen CNN is cheap and RACNN is not); ``parse_caffe_time``
reads its averages.  racnn.report.table_i turns them into seconds per epoch.
"""
import os
import re
import subprocess

from .. import vocab
from ..errors import RacnnError
from ..rundir.caffelog import caffe_env

_AVG = re.compile(r"Average (Forward pass|Backward pass|Forward-Backward): ([0-9.eE+-]+) ms")


def parse_caffe_time(text):
    """{"forward_ms", "backward_ms", "forward_backward_ms"} from the output
    of ``caffe time``; RacnnError when the averages are missing."""
    found = {}
    for what, value in _AVG.findall(text):
        found[{"Forward pass": "forward_ms", "Backward pass": "backward_ms",
               "Forward-Backward": "forward_backward_ms"}[what]] = float(value)
    if "forward_backward_ms" not in found:
        tail = "\n".join(text.strip().splitlines()[-8:])
        raise RacnnError("caffe time printed no averages; its last lines:\n%s" % tail)
    return found


def timing_net(backbone, racnn, mode="frozen", mults="paper", batch_size=None,
               num_classes=200):
    """The TRAIN-phase net that ``caffe time`` runs: build_net's train_val
    with DummyData instead of the databases."""
    # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
    from ..nets import DEFAULT_BATCH, build_net
    from ..nets.dummy import with_dummy_data
    batch = int(batch_size or DEFAULT_BATCH[vocab.backbone_spec(backbone).name][0])
    proto = build_net(backbone, num_classes, racnn=racnn, mode=mode, mults=mults,
                      phase="train_val", train_source="dummy", test_source="dummy",
                      batch_size=batch, test_batch_size=1)
    return with_dummy_data(proto), batch


def time_net(backbone, racnn, mode="frozen", mults="paper", batch_size=None, iterations=5,
             gpu=None, num_classes=200):
    """Run ``caffe time`` on the training net; returns a dict with the
    averages in ms, ``batch_size``, ``iterations``, ``device``."""
    proto, batch = timing_net(backbone, racnn, mode, mults, batch_size, num_classes)
    out = _caffe_time(proto, iterations, gpu, "%s%s" % ("RACNN-" if racnn else "", backbone))
    out.update(backbone=vocab.backbone_spec(backbone).name, racnn=bool(racnn), mode=mode,
               mults=mults, batch_size=batch, iterations=int(iterations),
               device=_device(gpu))
    return out


def time_stage1(mults="paper", batch_size=None, patch=vocab.SR_PATCH, iterations=5, gpu=None):
    """``caffe time`` of stage 1's net (SR pre-training on patch pairs of
    ``patch`` x ``patch``, DummyData); the same dict as time_net's, with
    ``stage`` ``stage1_sr`` and ``patch``."""
    # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
    from ..nets import build_sr_pretrain
    from ..nets.build import SR_BATCH
    from ..nets.dummy import with_dummy_data
    batch = int(batch_size or SR_BATCH)
    proto = with_dummy_data(build_sr_pretrain("dummy", batch_size=batch, mults=mults,
                                              patch=patch))
    out = _caffe_time(proto, iterations, gpu, "the stage-1 net")
    out.update(stage="stage1_sr", backbone=None, racnn=None, mults=mults, batch_size=batch,
               patch=int(patch), iterations=int(iterations), device=_device(gpu))
    return out


def _device(gpu):
    return "GPU %s" % gpu if gpu not in (None, "") else "CPU"


def _caffe_time(proto, iterations, gpu, what):
    """The averages of ``caffe time`` on the net ``proto``."""
    # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
    from ..nets.dummy import write_temp_net
    path = write_temp_net(proto)
    cmd = ["caffe", "time", "-model", path, "-iterations", str(int(iterations))]
    if gpu is not None and str(gpu) != "":
        cmd += ["-gpu", str(gpu)]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, env=caffe_env())
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise RacnnError("caffe time failed for %s (exit %d):\n%s" % (
            what, proc.returncode, "\n".join(proc.stdout.strip().splitlines()[-10:])))
    return parse_caffe_time(proc.stdout)
