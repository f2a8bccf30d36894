"""Runnable experiments built on nodegrad; `python -m demos` is the newcomer's first minute."""
