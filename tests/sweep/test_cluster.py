"""racnn.sweep.cluster (make slurm-local): one folder serves one cluster,
then another of another size (slurmctld refused the state an earlier one
left: "CLUSTER NAME MISMATCH", with an empty message); a second start while
one runs is refused, naming it.  Skipped where root, Slurm's packages or
network namespaces cannot be had."""
import pytest

from racnn.errors import RacnnError
from racnn.sweep import cluster as cluster_mod


def test_one_folder_one_node_then_two_nodes(tmp_path):
    reason = cluster_mod.install(nodes=2) or cluster_mod.namespaces_reason()
    if reason:
        pytest.skip("no Slurm cluster here: %s" % reason)
    top = tmp_path / "slurm"
    one = cluster_mod.Cluster(top, nodes=1).start()
    try:
        with pytest.raises(RacnnError, match="a Slurm cluster already runs in %s" % top):
            cluster_mod.Cluster(top, nodes=2).start()
    finally:
        one.stop()
    two = cluster_mod.Cluster(top, nodes=2).start()
    try:
        r = two.run(["sinfo", "-h", "-N", "-o", "%N"])
        assert r.stdout.split() == ["node1", "node2"], r.stdout
    finally:
        two.stop()
    assert not two.running()
