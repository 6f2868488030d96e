-- Issue 18, finding 4: the areas Samenplan serves are a managed list, each with the team
-- that serves it. A referral to an area not on it is rejected (rule unknown-area) instead of
-- waiting, with no manager, where no team lead looks. An installation's areas so far are the
-- ones its managers and cases name.
CREATE TABLE areas (
    id text PRIMARY KEY CHECK (id ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(id) <= 64),
    team text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO areas (id, team)
SELECT DISTINCT ON (area) area, team FROM (SELECT unnest(areas) AS area, team FROM managers) AS m
WHERE area ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(area) <= 64
ORDER BY area, team
ON CONFLICT DO NOTHING;
INSERT INTO areas (id, team)
SELECT DISTINCT area, area FROM cases WHERE area ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(area) <= 64
ON CONFLICT DO NOTHING;
