"""Secret scanning for changed sources (at `plan`) and built artifacts (at `build`), on top of detect-secrets.

A finding names file, line, rule and a fingerprint; the secret's value never leaves the scanner (not in output, logs,
exceptions or the baseline, which stores only detect-secrets' hash).
"""
