"""Ticket status from the trackers a ticket names: Jira, GitHub, GitLab, Bugzilla."""
