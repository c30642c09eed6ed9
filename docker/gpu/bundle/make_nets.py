#!/usr/bin/env python3
"""The nets, solvers and databases of the GPU bundle (make gpu-bundle), from
the committed nets (prototxt/) and a finished SMOKE demo run folder.

  make_nets.py --smoke-run RUN --out DIR

Writes into DIR (the bundle's share/ folder):
  table1/<backbone>_<cnn|racnn>.prototxt   Table I: the committed Cars train_val
      (frozen, paper multipliers, the release's training batch) with its Data
      layers replaced by constant DummyData (filled once, so `caffe time`
      times the GPU and not the CPU filling a random batch every pass)
  table1/nets.tsv         net, backbone, racnn, batch (what run-check times)
  numerics/<net>.prototxt the same train_val with one Input layer (data,
      label) and no Accuracy, run in the TEST phase by racnn-numerics (no
      dropout), so that CPU and GPU see the same net, weights and batch
  numerics/nets.tsv       net, batch, classes, output blob, SR layers
  datalayer/              RACNN-AlexNet trained through Caffe's Data layer
      (source @LMDB@, a database racnn-numerics makes on the GPU machine) and
      the same net on constant DummyData, each with a short solver: the
      difference is what the data layer costs
  smoke/stages/<stage>/   the SMOKE run's train_val / solver / deploy with
      database paths @BUNDLE@/smoke/data/<db>, solver_mode CPU (caffe train
      -gpu decides), its seed and iteration counts unchanged
  smoke/plan.tsv          stage, the stages whose final models initialise it
  smoke/data/<db>/        the run's databases (data.mdb + manifest.json)

Only the standard library and pycaffe's protobuf classes: the bundle itself
needs no Python.
"""
import argparse
import json
import os
import shutil
import sys

from google.protobuf import text_format

from caffe.proto import caffe_pb2

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BACKBONES = ("alexnet", "vgg16", "googlenet")
SR_LAYERS = ("sconv1", "sconv2", "sconv3")
# The stages of a demo run in training order (what each starts from comes
# from its config.json "init_from").
STAGES = ("backbone_hr", "stage1_sr", "cnn", "staged_hr", "staged", "racnn_g", "racnn_p")


def die(msg):
    sys.exit("make_nets.py: error: %s" % msg)


def read_net(path):
    net = caffe_pb2.NetParameter()
    try:
        with open(path) as fh:
            text_format.Merge(fh.read(), net)
    except (OSError, text_format.ParseError) as e:
        die("%s: %s" % (path, e))
    return net


def write(path, msg, header):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".partial", "w") as fh:
        fh.write("".join("# %s\n" % line for line in header.splitlines()))
        fh.write(text_format.MessageToString(msg))
    os.rename(path + ".partial", path)


def data_layers(net):
    return [l for l in net.layer if l.type == "Data"]


def train_shape(net):
    """(batch, crop) of the TRAIN-phase Data layer."""
    for l in data_layers(net):
        if any(r.phase == caffe_pb2.TRAIN for r in l.include):
            return l.data_param.batch_size, l.transform_param.crop_size
    die("%s: no TRAIN-phase Data layer" % net.name)


def body(net):
    """The layers behind the Data layers, include/exclude rules kept."""
    return [l for l in net.layer if l.type != "Data"]


def with_dummy(net, batch, crop):
    """TRAIN-phase copy: constant DummyData (data 128, label 0) of the
    training shape instead of the Data layers; TEST-only layers dropped."""
    out = caffe_pb2.NetParameter()
    out.CopyFrom(net)
    del out.layer[:]
    d = out.layer.add(name="data", type="DummyData")
    d.top.extend(["data", "label"])
    p = d.dummy_data_param
    p.shape.add(dim=[batch, 3, crop, crop])
    p.shape.add(dim=[batch])
    p.data_filler.add(type="constant", value=128)
    p.data_filler.add(type="constant", value=0)
    for l in body(net):
        if l.include and all(r.phase == caffe_pb2.TEST for r in l.include):
            continue
        out.layer.add().CopyFrom(l)
    return out


def with_input(net, batch, crop):
    """Input layer (data, label) + the body without Accuracy or phase rules."""
    out = caffe_pb2.NetParameter()
    out.CopyFrom(net)
    del out.layer[:]
    i = out.layer.add(name="input", type="Input")
    i.top.extend(["data", "label"])
    i.input_param.shape.add(dim=[batch, 3, crop, crop])
    i.input_param.shape.add(dim=[batch])
    for l in body(net):
        if l.type == "Accuracy":
            continue
        c = out.layer.add()
        c.CopyFrom(l)
        del c.include[:]
        del c.exclude[:]
    return out


def classifier(net):
    """(top blob, num_output) of the last InnerProduct."""
    ips = [l for l in net.layer if l.type == "InnerProduct"]
    if not ips:
        die("%s: no InnerProduct layer" % net.name)
    return ips[-1].top[0], ips[-1].inner_product_param.num_output


def committed(backbone, racnn):
    path = os.path.join(REPO, "prototxt", backbone, "cars", "%s_frozen_paper_train_val.prototxt"
                        % ("racnn_p" if racnn else "cnn"))
    if not os.path.isfile(path):
        die("%s is missing (the committed nets, make prototxts)" % path)
    return path, read_net(path)


def table1(out):
    rows = []
    for b in BACKBONES:
        for racnn in (False, True):
            src, net = committed(b, racnn)
            batch, crop = train_shape(net)
            name = "%s_%s" % (b, "racnn" if racnn else "cnn")
            write(os.path.join(out, "table1", name + ".prototxt"), with_dummy(net, batch, crop),
                  "Table I net (docker/gpu/bundle/make_nets.py): %s with constant DummyData\n"
                  "of the training batch (%d x 3 x %d x %d); timed by caffe time (TRAIN phase)."
                  % (os.path.relpath(src, REPO), batch, crop, crop))
            rows.append("%s\t%s\t%d\t%d" % (name, b, int(racnn), batch))
    with open(os.path.join(out, "table1", "nets.tsv"), "w") as fh:
        fh.write("# net\tbackbone\tracnn\tbatch\n" + "\n".join(rows) + "\n")


def numerics(out):
    rows = []
    for b in ("alexnet", "vgg16"):
        src, net = committed(b, True)
        batch, crop = train_shape(net)
        top, classes = classifier(net)
        name = "%s_racnn" % b
        write(os.path.join(out, "numerics", name + ".prototxt"), with_input(net, batch, crop),
              "Numerics net (docker/gpu/bundle/make_nets.py): %s with an Input layer\n"
              "(%d x 3 x %d x %d + labels) and no Accuracy; racnn-numerics runs it in the TEST\n"
              "phase (no dropout) on the CPU and on the GPU." % (
                  os.path.relpath(src, REPO), batch, crop, crop))
        rows.append("%s\t%d\t%d\t%s,sum\t%s" % (name, batch, classes, top, ",".join(SR_LAYERS)))
    with open(os.path.join(out, "numerics", "nets.tsv"), "w") as fh:
        fh.write("# net\tbatch\tclasses\tblobs\tparams\n" + "\n".join(rows) + "\n")


def datalayer(out, iters=150):
    src, net = committed("alexnet", True)
    batch, crop = train_shape(net)
    real = caffe_pb2.NetParameter()
    real.CopyFrom(net)
    del real.layer[:]
    for l in net.layer:
        if l.include and all(r.phase == caffe_pb2.TEST for r in l.include):
            continue            # no TEST net: the solver never tests
        c = real.layer.add()
        c.CopyFrom(l)
        if l.type == "Data":
            c.data_param.source = "@LMDB@"
    write(os.path.join(out, "datalayer", "train_val_data.prototxt"), real,
          "RACNN-AlexNet (%s) read through Caffe's Data layer from @LMDB@\n"
          "(random %dx%d Datums made by racnn-numerics make-lmdb on the spot)." % (
              os.path.relpath(src, REPO), crop, crop))
    write(os.path.join(out, "datalayer", "train_val_dummy.prototxt"), with_dummy(net, batch, crop),
          "The same net on constant DummyData: caffe train without the data layer's cost.")
    for kind in ("data", "dummy"):
        s = caffe_pb2.SolverParameter(
            net="train_val_%s.prototxt" % kind, base_lr=1e-6, lr_policy="fixed",
            momentum=0.9, weight_decay=0.0005, max_iter=iters, display=25,
            snapshot_after_train=False, random_seed=1701, solver_mode=caffe_pb2.SolverParameter.CPU)
        write(os.path.join(out, "datalayer", "solver_%s.prototxt" % kind), s,
              "%d iterations of RACNN-AlexNet, display every 25 (Caffe prints iter/s)." % iters)
    with open(os.path.join(out, "datalayer", "shape.tsv"), "w") as fh:
        fh.write("# batch\tcrop\titerations\n%d\t%d\t%d\n" % (batch, crop, iters))


def smoke(run, out):
    cfg_path = os.path.join(run, "config.json")
    try:
        with open(cfg_path) as fh:
            cfg = json.load(fh)
    except (OSError, ValueError) as e:
        die("%s: %s (a finished SMOKE demo run: tools/demo.py --smoke --run-dir ...)" % (cfg_path, e))
    stages = cfg.get("stages") or {}
    dbs = {}            # absolute source -> name in smoke/data
    plan = []
    for stage in STAGES:
        if stage not in stages:
            continue
        sdir = os.path.join(run, stage)
        if not os.path.isfile(os.path.join(sdir, "DONE")):
            die("%s: stage %s has not finished" % (run, stage))
        tv = read_net(os.path.join(sdir, "train_val.prototxt"))
        for l in data_layers(tv):
            src = l.data_param.source
            if src not in dbs:
                dbs[src] = os.path.basename(os.path.normpath(src))
                if dbs[src] in [v for k, v in dbs.items() if k != src]:
                    dbs[src] = "%s_%d" % (dbs[src], len(dbs))
            l.data_param.source = "@DATA@/" + dbs[src]
        dst = os.path.join(out, "smoke", "stages", stage)
        write(os.path.join(dst, "train_val.prototxt"), tv,
              "SMOKE demo stage %s (from %s): database paths @DATA@/<db>\n(run-check copies share/smoke/data there), everything else as trained."
              % (stage, os.path.relpath(sdir, REPO)))
        solver = caffe_pb2.SolverParameter()
        with open(os.path.join(sdir, "solver.prototxt")) as fh:
            text_format.Merge(fh.read(), solver)
        solver.net = "train_val.prototxt"
        solver.snapshot_prefix = "snapshots/%s" % stage
        solver.solver_mode = caffe_pb2.SolverParameter.CPU        # caffe train -gpu decides
        write(os.path.join(dst, "solver.prototxt"), solver,
              "SMOKE demo stage %s: the run's solver (seed %d, %d iterations)."
              % (stage, solver.random_seed, solver.max_iter))
        for deploy in ("deploy.prototxt", "sr_deploy.prototxt"):
            if os.path.isfile(os.path.join(sdir, deploy)):
                shutil.copy(os.path.join(sdir, deploy), os.path.join(dst, deploy))
        inits = []
        for model in stages[stage].get("init_from") or []:
            # .../<stage>/snapshots/<stage>_iter_N.caffemodel -> <stage>
            owner = os.path.basename(os.path.dirname(os.path.dirname(model)))
            if owner not in STAGES:
                die("%s: stage %s starts from %s, not from an earlier stage" % (run, stage, model))
            inits.append(owner)
        plan.append("%s\t%s\t%d" % (stage, ",".join(inits) or "-", solver.max_iter))
    if not plan:
        die("%s: no stages in config.json" % run)
    with open(os.path.join(out, "smoke", "plan.tsv"), "w") as fh:
        fh.write("# stage\tinit_from (final models of these stages, caffe train -weights)\tmax_iter\n")
        fh.write("\n".join(plan) + "\n")
    for src, name in sorted(dbs.items()):
        dst = os.path.join(out, "smoke", "data", name)
        os.makedirs(dst, exist_ok=True)
        for f in ("data.mdb", "manifest.json"):
            if os.path.isfile(os.path.join(src, f)):
                shutil.copy(os.path.join(src, f), os.path.join(dst, f))
        if not os.path.isfile(os.path.join(dst, "data.mdb")):
            die("%s: no data.mdb" % src)
    print("make_nets.py: %d SMOKE stages, %d databases" % (len(plan), len(dbs)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke-run", required=True, help="a finished SMOKE demo run folder")
    p.add_argument("--out", required=True, help="the bundle's share/ folder (made afresh)")
    a = p.parse_args()
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    table1(a.out)
    numerics(a.out)
    datalayer(a.out)
    smoke(os.path.abspath(a.smoke_run), a.out)


if __name__ == "__main__":
    main()
