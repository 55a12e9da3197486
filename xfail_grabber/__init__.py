"""xfail-grabber: an inventory of muted tests (xfail, skip, flaky, custom markers).

From Python: `from xfail_grabber.api import scan, diff, history` (see that module); the
command line is `xfail_grabber.cli`.
"""

from .__about__ import __version__

__all__ = ["__version__"]
