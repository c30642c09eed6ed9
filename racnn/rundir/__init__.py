"""The run folder, below everything that reads it: its settings
(config.json's configuration, the folder's name, the stage plan), its file
names, a stage's state files, readers of runs and stages, results from their
one home (``<stage>/eval/metrics.json``), and Caffe's training logs.
racnn.train writes run folders; racnn.eval, racnn.report and racnn.sweep read
them only through this package."""
