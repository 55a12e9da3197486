-- Redash query "Muted since the previous snapshot": the records of each repository's and
-- branch's latest snapshot that its previous snapshot did not hold ("387 skipped, up from
-- 386: which one?"). A Table visualization.
WITH ranked AS (
    SELECT "snapshot_id", "repo", "branch", "day",
           ROW_NUMBER() OVER (PARTITION BY "repo", "branch"
                              ORDER BY "scanned_at" DESC, "snapshot_id" DESC) AS "rn"
    FROM snapshots
)
SELECT cur."repo", cur."branch", cur."day", m."nodeid", m."kind", m."category", m."ticket",
       m."reason"
FROM ranked cur
JOIN muted_tests m ON m."snapshot_id" = cur."snapshot_id"
JOIN ranked prev ON prev."repo" = cur."repo" AND prev."branch" = cur."branch"
                AND prev."rn" = 2
LEFT JOIN muted_tests p ON p."snapshot_id" = prev."snapshot_id"
                       AND p."nodeid" = m."nodeid" AND p."kind" = m."kind"
WHERE cur."rn" = 1 AND p."nodeid" IS NULL
ORDER BY cur."repo", cur."branch", m."nodeid"
