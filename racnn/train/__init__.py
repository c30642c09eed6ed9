"""Training the stages of a run: the nets and solvers each stage trains
(net_sources), the stage folder's copies of them (stage_copies), its
schedule (schedule), where the folder's contents came from and what is
stale (provenance), one ``caffe train`` process per stage (caffe_train),
and the driver that trains the stages in order (driver.Trainer).
racnn.pipeline puts training, evaluation and the report together."""
