"""What a run reads, made ready before training: fail-fast checks of its
inputs (``checks``), the GPU it asks for (``gpu``), its databases
(``databases``).  The experiment driver and the sweep's shared-input step
both use it."""
