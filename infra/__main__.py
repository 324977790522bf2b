"""Pulumi entry point; kept trivial so all logic lives in the importable, testable package."""

from northstar_infra import stack

stack.build()
