-- Issue 7: figures per team. A family manager belongs to one team (a neighbourhood team of
-- the organisation, e.g. "team-goes"); without one given, the manager's first area names it.
ALTER TABLE managers ADD COLUMN team text;
UPDATE managers SET team = areas[1] WHERE team IS NULL;
ALTER TABLE managers ALTER COLUMN team SET NOT NULL;
