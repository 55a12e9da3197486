-- Redash query "Unconditional mutes without a ticket": the debt nobody tracks, oldest
-- declared first. A Table visualization.
SELECT "repo", "branch", "nodeid", "kind", "since", "reason", "path", "line"
FROM latest_muted_tests
WHERE "category" = 'muted' AND ("ticket" IS NULL OR "ticket" = '')
ORDER BY "since", "repo", "branch", "nodeid"
