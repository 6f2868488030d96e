-- A re-referred family goes back to the manager it knew, also when it first has to wait.
ALTER TABLE cases ADD COLUMN preferred_manager_id text;
