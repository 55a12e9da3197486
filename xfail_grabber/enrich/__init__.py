"""What a scan alone cannot say about a muted test: whose it is (CODEOWNERS), since when it
has really been there (git blame), and whether its ticket is already closed (trackers).

Each step takes a Snapshot and returns a new one with the records' fields filled in; none of
them fails a scan: what cannot be found stays empty and the reason goes to the log.
"""
