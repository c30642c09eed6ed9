"""What the paper shows, beside ours: result tables keyed by run settings
(tables; ``python3 -m racnn.report`` = tools/report.py), Table I timing
(timing), and super-resolved views (srview)."""
