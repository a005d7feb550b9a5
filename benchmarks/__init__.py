"""`make bench`: chartgen's performance targets, measured as whole processes on this machine.

Run `python -m benchmarks --help` for the options; README.md ("Performance") shows a run.
"""
