"""Northstar platform infrastructure as a Pulumi Python program (see ``stack.build``)."""
