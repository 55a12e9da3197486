-- Redash query "Dynamic mute sites": the item.add_marker / request.applymarker calls in
-- hooks and fixtures of each repository's and branch's latest snapshot. Which tests they
-- mute is known only when pytest runs, so no count includes them. A Table visualization.
WITH ranked AS (
    SELECT "snapshot_id", "repo", "branch", "day",
           ROW_NUMBER() OVER (PARTITION BY "repo", "branch"
                              ORDER BY "scanned_at" DESC, "snapshot_id" DESC) AS "rn"
    FROM snapshots
)
SELECT r."repo", r."branch", r."day", d."path", d."line", d."marker", d."hook"
FROM ranked r
JOIN dynamic_sites d ON d."snapshot_id" = r."snapshot_id"
WHERE r."rn" = 1
ORDER BY r."repo", r."branch", d."position"
