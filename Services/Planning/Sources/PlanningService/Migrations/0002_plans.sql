-- Issue 4: the family plan, versioned. Every proposed change is a new version; it takes
-- effect when the team lead approves it; old versions stay readable.
CREATE TABLE plan_versions (
    case_id uuid NOT NULL REFERENCES cases (id),
    version integer NOT NULL CHECK (version > 0),
    -- The plan itself (PlanContent): the family's own words, never in an event.
    content jsonb NOT NULL,
    -- Why this version: the change and its reason, in the manager's words.
    reason text NOT NULL,
    author text NOT NULL,
    created_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'sent-back')),
    decided_by text,
    decided_at timestamptz,
    decision_comment text,
    PRIMARY KEY (case_id, version)
);
CREATE INDEX plan_versions_approved ON plan_versions (case_id, version) WHERE status = 'approved';
