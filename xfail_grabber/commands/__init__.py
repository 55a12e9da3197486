"""The click layer: one module per `grabber` verb.

Each module parses options, calls library functions, renders, and maps library errors to
exit codes (1 a failure, 2 a usage error). This package and `cli.py` are the only places
that import click; everything else is a library usable from Python (see `xfail_grabber.api`).
"""
