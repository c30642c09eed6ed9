"""What the paper shows, beside ours: result records from run folders
(collect), placed in the paper's tables by their settings (keying, cells),
written as Markdown and CSV (markdown, write; ``python3 -m racnn.report`` =
tools/report.py); Fig. 5 (fig5); Table I from ``caffe time`` and the logs
(caffe_time, table_i); super-resolved views (srview)."""
