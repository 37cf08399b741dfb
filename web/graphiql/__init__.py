"""GraphiQL served by the service itself: pinned npm assets, or a small built-in console."""
