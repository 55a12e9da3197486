-- Redash query "Muted tests now": every muted test of the latest snapshot per repository
-- and branch. Use a Table visualization; filter on kind or category with Redash's
-- column filters (rename a column to "kind::filter" to get a drop-down).
SELECT "repo", "branch", "nodeid", "kind", "category", "ticket", "since", "reason",
       "path", "line", "scanned_at"
FROM latest_muted_tests
ORDER BY "repo", "branch", "nodeid"
