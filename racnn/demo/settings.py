"""The demo's dataset and experiment settings as plain data (racnn.demo.run
runs them, racnn.sweep's demo grid plans them): importing this module costs
nothing (racnn.vocab is pure Python), so the sweep tool can read it on a
host without the environment."""
from .. import vocab

#: the demo's dataset (8 classes: 4 texture patterns x 2 periods)
DATASET = dict(num_classes=8, train_per_class=60, test_per_class=30, seed=0)


DATASET_SMOKE = dict(num_classes=4, train_per_class=6, test_per_class=4, seed=0)


#: the demo's experiment: tiny backbone (input 64, images stored at 72),
#: r = 16 (72 -> 16 -> 72 is the paper's 227 -> 50 -> 227 factor), the Table II
#: setting (frozen backbone, the release's multipliers), SR patches 24x24 at
#: stride 12 from 200 training images, and CPU-sized schedules: 25 epochs for
#: the backbone, 3 for stage 1, 4 for stage 2, so that the whole demo fits in
#: 15 minutes on 2 virtual cores (13 min measured; 40 / 5 / 8 epochs
#: took 23 min there, and gave the CNN 11 points more, p-RACNN 2).  The solvers
#: differ from the release where minutes replace days: Adam for stage 1 and
#: stage 2 (the release's SGD at 2e-9 / 1e-6 needs its 15M / 700k
#: iterations), SGD at 1e-3 with gradients clipped to norm 10 for backbone_hr
#: (trained from scratch on raw 0..255 pixels, unclipped it can die at the start).
#: g-RACNN starts from the fillers (the paper's text; the release reading's default
#: would copy stage 1's SR weights in, so that g and p differed only in their
#: multipliers) and the step positions are the released solver's: the demo shows
#: the two initialisations, as measured in README.md.
CONFIG = dict(res=16, db_size=72, sr_size=72, sr_res=16, sr_patch=24, sr_stride=12,
              sr_max_images=200, mode="frozen", mults="release",
              g_sr_init="gaussian", stage2_length="solver",
              variants=list(vocab.VARIANTS),            # all four networks
              backbone_hr_epochs=25, stage1_epochs=3, stage2_epochs=4,
              stage1_batch=32, stage2_batch=32, test_batch=48, snapshots=4, tests=4,
              solver={"backbone_hr": {"base_lr": 0.001, "momentum": 0.9, "clip_gradients": 10},
                      "stage1": {"type": "Adam", "base_lr": 3e-4, "lr_policy": "fixed",
                                 "momentum": 0.9, "momentum2": 0.999},
                      "stage2": {"type": "Adam", "base_lr": 0.001, "momentum": 0.9,
                                 "momentum2": 0.999}})
