"""Pieces of scripts/bench_replay.py: targets, key schedules, scoring and the two clients."""
