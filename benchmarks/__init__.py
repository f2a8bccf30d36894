"""Benchmarks: scripts that print figures. `python -m benchmarks` runs every performance goal in one table.

Its rows live in train_step (one training step: engine, hand-written numpy of reference.py, PyTorch),
chain (per-op overhead and a 100,000-op chain), memory (peak memory of a CNN step) and epoch (an MNIST
epoch); op_profile and monitor_overhead are diagnostics of their own.
"""
