-- Redash query "Muted tests per day, by category" (muted = debt, conditional = guards,
-- retry = rerun plugins): an Area chart, X "day", Y "muted", Group by "category".
SELECT "day", "repo", "branch", COALESCE("category", 'none') AS "category",
       SUM("muted") AS "muted"
FROM muted_trend_daily
GROUP BY "day", "repo", "branch", COALESCE("category", 'none')
ORDER BY "day", "repo", "branch", "category"
