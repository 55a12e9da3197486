-- Redash query "Muted tests per day, by kind": a Line or Area chart (stacked) with
-- X column "day", Y column "muted", Group by "kind". Days whose snapshot held no
-- records appear with kind "none" at 0.
SELECT "day", "repo", "branch", COALESCE("kind", 'none') AS "kind", SUM("muted") AS "muted"
FROM muted_trend_daily
GROUP BY "day", "repo", "branch", COALESCE("kind", 'none')
ORDER BY "day", "repo", "branch", "kind"
