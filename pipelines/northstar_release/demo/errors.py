"""The demo's outcomes of a step or of set-up (exceptions that end a step, a chapter or the run)."""

from __future__ import annotations


class DemoSetupError(Exception):
    """Usage or set-up problem: the demo cannot start (exit 2)."""


class AdapterNotAvailable(Exception):
    """The evidence a step needs comes from an artifact kind / entry point that is not available (yet)."""


class StepFailed(Exception):
    """A step's expectation did not hold; the message is the step's result."""
