"""xfail-grabber: an inventory of muted tests (xfail, skip, flaky, custom markers)."""

from .__about__ import __version__

__all__ = ["__version__"]
