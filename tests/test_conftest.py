"""The suite's own set-up (tests/conftest.py): the `caffe` programs the tests
start write their glog files into the session's folder (GLOG_log_dir), not
into the host's /tmp (a case of issue 14, item 19)."""
import os
import subprocess

from tests.support import evalkit as kit


def test_caffe_glog_files_stay_out_of_tmp(tmp_path):
    log_dir = os.environ.get("GLOG_log_dir")
    # the session's folder under the checkout's build/ (which may itself lie
    # under /tmp, as a CI clone can), never /tmp itself
    build = os.path.join(os.path.realpath(kit.REPO), "build") + os.sep
    assert log_dir and os.path.realpath(log_dir).startswith(build), log_dir
    deploy = kit.tiny_deploy(str(tmp_path / "deploy.prototxt"), batch=2)
    env = dict(os.environ, GLOG_minloglevel="0")          # INFO lines: glog writes a file
    env.pop("GLOG_logtostderr", None)
    proc = subprocess.Popen(["caffe", "time", "-model", deploy, "-iterations", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    suffix = ".%d" % proc.pid                # glog: <prog>.<host>.<user>.log.<LEVEL>.<time>.<pid>
    assert [f for f in os.listdir(log_dir) if f.endswith(suffix)], os.listdir(log_dir)
    assert not [f for f in os.listdir("/tmp") if f.startswith("caffe.") and f.endswith(suffix)]
