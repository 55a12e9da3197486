#!/usr/bin/env python3
"""The original command form, kept working: see xfail_grabber/compat.py."""

import sys

from xfail_grabber.compat import main

if __name__ == "__main__":
    sys.exit(main())
