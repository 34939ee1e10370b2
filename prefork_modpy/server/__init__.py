"""Layer 5, the processes (Apache's MPM): master, workers, listeners, scoreboard, status,
systemd. Imports every layer below it; only `cli` imports it.
"""
