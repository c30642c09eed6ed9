"""Resizing and the paper's degradation: MATLAB's bicubic ``imresize`` rules
(matlab_rules), its two engines (compiled: ``_resize.c`` built on first use;
numpy_engine), and ``degrade`` (kernels matlab / opencv / pil, the
size -> r x r -> size protocol)."""
