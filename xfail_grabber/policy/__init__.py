"""The mute policy: rules (rules.py), reading [policy] (load.py), judging a scan (check.py)."""
