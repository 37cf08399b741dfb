"""Coordination between service processes: one leader for the background work."""
