"""Strawberry schema extensions, one per module."""
