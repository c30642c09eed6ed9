"""Small real things for the evaluation/report tests: LMDBs of Datums with
a manifest, a tiny hand-set Caffe net (train_val with an Accuracy layer that
has the per-class second top, and its deploy twin), snapshots, and a real
`caffe train` run folder."""
import json
import os
import shutil
import subprocess

import numpy as np

import caffe
from caffe import layers as L, params as P
from caffe.proto import caffe_pb2

from racnn import paths

REPO = paths.REPO                 # the repository: the tools' working folder

CLASS_NAMES = ["red", "green", "blue", "grey", "dark"]
#: colour prototypes (BGR) per class; the tiny net classifies by mean colour
PROTOS = np.array([[40, 40, 200], [40, 200, 40], [200, 40, 40], [128, 128, 128],
                   [30, 30, 30]], np.float32)
#: images per class of the evaluation tests: imbalanced, class 3 has no test
#: image, 37 = 4 x 8 + 5 (a partial last batch of 8)
IMBALANCED = [15, 9, 2, 0, 11]
#: images per class of the evaluation fault cases (14 images, batches of 4)
SMALL = [4, 3, 2, 3, 2]


def write_db(db_dir, images, labels, class_names=None, manifest=True, extra=None):
    """A classification database of CHW uint8 images through racnn.db.lmdbio
    (LMDB + manifest.json); ``manifest=False`` removes the manifest."""
    from racnn.db import lmdbio as db
    names = list(class_names or CLASS_NAMES)
    fields = {"kind": "classification", "dataset": "synthetic", "split": "test", "res": 16,
              "size": int(images[0].shape[1]), "kernel": "matlab"}
    if manifest:
        fields.update(num_classes=len(names), class_names=names)
    fields.update(extra or {})
    db.write_datums(db_dir, [(img.transpose(1, 2, 0), lab) for img, lab in zip(images, labels)],
                    fields)
    if not manifest:
        os.unlink(os.path.join(db_dir, "manifest.json"))
    return db_dir


def colour_images(counts, size=20, noise=70, shift=55, seed=0):
    """Images of each class (``counts[k]`` of class k): the class colour
    shifted by a random colour (so classes get confused) plus pixel noise in
    the centre, and a random border (so a wrong crop shows)."""
    rng = np.random.RandomState(seed)
    images, labels = [], []
    for k, n in enumerate(counts):
        for _ in range(n):
            img = rng.randint(0, 256, (3, size, size)).astype(np.float32)
            colour = PROTOS[k % len(PROTOS)] + rng.normal(0, shift, 3)
            img[:, 2:-2, 2:-2] = colour[:, None, None] + rng.normal(
                0, noise, (3, size - 4, size - 4))
            images.append(np.clip(img, 0, 255).astype(np.uint8))
            labels.append(k)
    order = rng.permutation(len(labels))
    return [images[i] for i in order], [labels[i] for i in order]


def _body(n, num_classes, conv_out=3):
    n.conv1 = L.Convolution(n.data, num_output=conv_out, kernel_size=1,
                            weight_filler=dict(type="gaussian", std=0.01))
    n.pool1 = L.Pooling(n.conv1, pool=P.Pooling.AVE, global_pooling=True)
    n.fc_cls = L.InnerProduct(n.pool1, num_output=num_classes,
                              weight_filler=dict(type="gaussian", std=0.01))
    return n.fc_cls


def tiny_train_val(path, db, batch, crop=16, mean=(10, 20, 30), scale=0.5,
                   num_classes=5, train_db=None):
    """TRAIN + TEST Data layers, SoftmaxWithLoss, and in TEST an Accuracy
    layer with tops (accuracy, per_class) and a Softmax ``prob``."""
    tp = dict(crop_size=crop, mean_value=list(mean), scale=scale)
    n = caffe.NetSpec()
    n.data, n.label = L.Data(source=train_db or db, backend=P.Data.LMDB, batch_size=batch,
                             ntop=2, transform_param=dict(tp, mirror=True),
                             include=dict(phase=caffe.TRAIN))
    train = str(n.to_proto())
    n = caffe.NetSpec()
    n.data, n.label = L.Data(source=db, backend=P.Data.LMDB, batch_size=batch, ntop=2,
                             transform_param=tp, include=dict(phase=caffe.TEST))
    fc = _body(n, num_classes)
    n.loss = L.SoftmaxWithLoss(fc, n.label)
    n.accuracy, n.per_class = L.Accuracy(fc, n.label, ntop=2, include=dict(phase=caffe.TEST))
    n.prob = L.Softmax(fc, include=dict(phase=caffe.TEST))
    with open(path, "w") as fh:
        fh.write(train + str(n.to_proto()))
    return path


def tiny_deploy(path, batch=8, crop=16, num_classes=5, conv_out=3):
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[batch, 3, crop, crop]))
    n.prob = L.Softmax(_body(n, num_classes, conv_out))
    with open(path, "w") as fh:
        fh.write(str(n.to_proto()))
    return path


def hand_weights(deploy, path, mean=(10, 20, 30), scale=0.5, seed=1):
    """Set conv1 ~ identity and fc_cls to nearest-prototype scores (on the
    preprocessed colour), save a caffemodel."""
    rng = np.random.RandomState(seed)
    net = caffe.Net(deploy, caffe.TEST)
    c = net.params["conv1"][0].data.shape[0]
    w = np.zeros(net.params["conv1"][0].data.shape, np.float32)
    w[:3, :3, 0, 0] = np.eye(3) + rng.normal(0, 0.05, (3, 3))
    net.params["conv1"][0].data[...] = w
    net.params["conv1"][1].data[...] = 0
    protos = (PROTOS - np.array(mean, np.float32)) * scale
    fc = np.zeros(net.params["fc_cls"][0].data.shape, np.float32)
    fc[:, :3] = protos / 20.0
    net.params["fc_cls"][0].data[...] = fc
    net.params["fc_cls"][1].data[...] = -(protos ** 2).sum(1) / 40.0
    net.save(path)
    assert c >= 3
    return path


def caffe_train(workdir, train_val, max_iter=30, snapshot=10, test_interval=10,
                test_iter=2, lr=0.001):
    """Run the real `caffe train` on ``train_val``; returns (log path,
    snapshot paths).  The log is Caffe's own glog output (stderr)."""
    solver = caffe_pb2.SolverParameter(
        net=os.path.abspath(train_val), base_lr=lr, lr_policy="step", gamma=0.5,
        stepsize=20, momentum=0.9, max_iter=max_iter, display=5, test_interval=test_interval,
        test_iter=[test_iter], snapshot=snapshot,
        snapshot_prefix=os.path.join(os.path.abspath(workdir), "tiny"),
        solver_mode=caffe_pb2.SolverParameter.CPU, random_seed=3)
    spath = os.path.join(workdir, "solver.prototxt")
    with open(spath, "w") as fh:
        fh.write(str(solver))
    log = os.path.join(workdir, "train.log")
    env = dict(os.environ, GLOG_minloglevel="0", GLOG_logtostderr="1")
    with open(log, "w") as fh:
        subprocess.run(["caffe", "train", "-solver", spath], stdout=fh,
                       stderr=subprocess.STDOUT, env=env, check=True, cwd=workdir)
    snaps = sorted((int(f.split("_iter_")[1].split(".")[0]), os.path.join(workdir, f))
                   for f in os.listdir(workdir) if f.endswith(".caffemodel"))
    return log, [p for _, p in snaps]


def make_run(root, name, config, stages=("cnn",), counts=(6, 5, 4, 3, 6), max_iter=30,
             seed=0):
    """A run folder as racnn.rundir.settings lays it out (config.json, one stage
    folder per network with train_val/deploy/solver, train.log and snapshots
    from a real `caffe train`), test database inside the run."""
    run = os.path.join(str(root), name)
    os.makedirs(run)
    images, labels = colour_images(list(counts), seed=seed)
    db = write_db(os.path.join(run, "test_db"), images, labels)
    with open(os.path.join(run, "config.json"), "w") as fh:
        json.dump(dict(config, paths={"test_db": db}), fh)
    for st in stages:
        d = os.path.join(run, st)
        os.makedirs(d)
        tv = tiny_train_val(os.path.join(d, "train_val.prototxt"), db, batch=4)
        tiny_deploy(os.path.join(d, "deploy.prototxt"), batch=4)
        caffe_train(d, tv, max_iter=max_iter)
    return run


def standin_weights(path):
    """Tiny-backbone weights with the fillers: the stand-in 'ImageNet' model of
    the fixture runs (its own 1000-way last layer, every other layer named as
    in the classification nets)."""
    from racnn.nets import build_net, write_net
    proto = str(path) + ".prototxt"
    write_net(build_net("tiny", 1000, dataset="imagenet", phase="deploy"), proto)
    caffe.Net(proto, caffe.TEST).save(str(path))
    return str(path)


def claim_full_run(run, variant_nets):
    """Give a fixture run folder the provenance a full run of the paper's
    setting writes, so that racnn.rundir.verdict may place it beside the
    paper: each stage's DONE (its last snapshot), its sources recorded as the
    committed prototxt/solvers files of ``variant_nets`` ({stage: (backbone,
    dataset, variant, mode, mults)}) with their sha256, and train/test
    databases whose manifests stand for the official split of photos (the
    numbers only: the tiny test database beside them is what the stage is
    evaluated on).  What this claims is provenance; the report checks it, the
    fixture states it."""
    with open(os.path.join(run, "config.json")) as fh:
        config = json.load(fh)
    if "racnn_p" in variant_nets:       # p-RACNN starts from stage 1's model
        d = os.path.join(run, "stage1_sr")
        os.makedirs(d)
        for name in ("solver.prototxt", "stage1_sr_iter_1.caffemodel"):
            with open(os.path.join(d, name), "w") as fh:
                fh.write("# fixture\n")
        variant_nets = dict(variant_nets, stage1_sr=None)
    _claim_databases(run, config)
    _claim_sources(run, config, variant_nets)
    return run


def _claim_databases(run, config):
    """Train/test databases whose manifests stand for the official split of
    photos, recorded in ``config`` (claim_full_run)."""
    from racnn import vocab
    spec = vocab.dataset_spec(config["dataset"])
    for split in ("train", "test"):
        folder = os.path.join(run, "claimed_%s_db" % split)
        os.makedirs(folder)
        with open(os.path.join(folder, "manifest.json"), "w") as fh:
            json.dump({"kind": "classification", "count": getattr(spec, split + "_count"),
                       "size": 227, "source_sides": [250, 500], "source_upscaled": 0}, fh)
        open(os.path.join(folder, "data.mdb"), "w").close()     # (the manifest's LMDB)
        config.setdefault("paths", {})["%s_db" % split] = folder


def _claim_sources(run, config, variant_nets):
    """Each stage's DONE (its last snapshot) and its committed sources with
    their sha256, recorded in ``config``, written to config.json
    (claim_full_run)."""
    from racnn.nets import layout
    from racnn.rundir.verdict import sha256
    for stage, args in variant_nets.items():
        d = os.path.join(run, stage)
        final = sorted((f for f in os.listdir(d) if f.endswith(".caffemodel")),
                       key=lambda f: int(f.split("_iter_")[1].split(".")[0]))[-1]
        with open(os.path.join(d, "DONE"), "w") as fh:
            json.dump({"final_model": final, "iteration": 30, "seconds": 1.0,
                       "finished": "2026-12-01T00:00:00"}, fh)
        src = ({"train_val": layout.sr_train_path(config["mults"], root=""),
                "solver": layout.sr_solver_path(config["mults"], root="")} if args is None else
               {"train_val": layout.train_val_path(*args, root=""),
                "solver": layout.solver_path(*args, root="")})
        config.setdefault("stages", {}).setdefault(stage, {}).update(
            source=src, source_sha256={k: sha256(os.path.join(REPO, v)) for k, v in src.items()})
    with open(os.path.join(run, "config.json"), "w") as fh:
        json.dump(config, fh)


def finished_run(root, accuracy, model=None, **settings):
    """A run folder as a finished, evaluated run of the paper's setting
    leaves it, without training (for the report): the configuration of
    ``settings`` (dataset, backbone and any key of racnn.rundir.settings;
    its variants: those of ``accuracy``), named by its run_name; every stage
    of its plan finished (DONE and a final model: ``model`` copied there for
    the stages with SR layers, else a placeholder), trained from the
    committed nets (their sha256), on official-split databases
    (claim_full_run's); each network of ``accuracy`` ({stage: mean class
    accuracy %}) evaluated with that number.  Returns the run folder."""
    from racnn import vocab
    from racnn.rundir import settings as rs
    cfg = rs.make_config(settings.pop("dataset"), settings.pop("backbone"),
                         variants=list(accuracy), **settings)
    run = os.path.join(str(root), rs.run_name(cfg))
    nets = {}
    for stage in rs.stage_plan(cfg):
        d = os.path.join(run, stage)
        os.makedirs(d)
        final = os.path.join(d, "%s_iter_30.caffemodel" % stage)
        if model and vocab.STAGES[stage].sr_init:
            shutil.copy(model, final)
        else:
            with open(final, "w") as fh:
                fh.write("# fixture\n")
        with open(os.path.join(d, "solver.prototxt"), "w") as fh:
            fh.write("# fixture\n")
        net = vocab.VARIANTS[stage].net if stage in vocab.VARIANTS else "cnn"   # staged_hr
        nets[stage] = None if stage in vocab.SR_SOURCE_STAGES else (
            cfg["backbone"], cfg["dataset"], net, cfg["mode"], cfg["mults"])
        if stage in accuracy:
            os.makedirs(os.path.join(d, "eval"))
            with open(os.path.join(d, "eval", "metrics.json"), "w") as fh:
                json.dump({"mean_class_accuracy": accuracy[stage] / 100.0,
                           "overall_accuracy": accuracy[stage] / 100.0, "num_images": 5794,
                           "iteration": 30, "snapshot": final}, fh)
    config = dict(cfg, stages={})
    _claim_databases(run, config)
    _claim_sources(run, config, nets)
    return run
