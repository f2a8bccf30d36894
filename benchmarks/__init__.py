"""Benchmarks: scripts that print figures. `python -m benchmarks.train_step` times one training step."""
