"""Strawberry types, one module per type."""
