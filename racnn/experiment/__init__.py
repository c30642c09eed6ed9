"""The two-stage experiment driver: configuration (config), inputs checked
and databases built (inputs), the nets and solvers each stage trains
(net_sources), the run folder (runfolder) and the files of one stage
(stage_files), one ``caffe train`` process per stage (caffe_train), and the
driver that puts them in order (driver.run)."""
