-- Issue 7: figures per team. A family manager's team, from intake's manager.registered
-- events (the latest registration counts).
CREATE TABLE manager_facts (
    manager_id text PRIMARY KEY,
    team text NOT NULL,
    registered_at timestamptz NOT NULL
);
CREATE INDEX manager_facts_team ON manager_facts (team);
