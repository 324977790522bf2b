"""Artifact adapters: one module per artifact kind behind the protocol in ``base``."""
