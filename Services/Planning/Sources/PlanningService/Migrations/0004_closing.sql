-- Issue 4: the safe ending. The continuation plan (borgingsplan), the manager's safety
-- assessments, the handover to the area's neighbourhood team, and the follow-ups after.
CREATE TABLE continuation_plans (
    case_id uuid PRIMARY KEY REFERENCES cases (id),
    -- What keeps the home safe, warning signs, what to do, who to call: the family's words.
    content jsonb NOT NULL,
    -- Months after closing that the family is visited again (default 6 and 12).
    follow_up_months integer[] NOT NULL,
    status text NOT NULL CHECK (status IN ('proposed', 'approved', 'sent-back')),
    author text NOT NULL,
    updated_at timestamptz NOT NULL,
    decided_by text,
    decided_at timestamptz,
    decision_comment text
);

CREATE TABLE safety_assessments (
    id bigserial PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    children_safe boolean NOT NULL,
    explanation text NOT NULL,
    assessed_by text NOT NULL,
    assessed_at timestamptz NOT NULL
);
CREATE INDEX safety_assessments_case ON safety_assessments (case_id, assessed_at);

CREATE TABLE handovers (
    case_id uuid PRIMARY KEY REFERENCES cases (id),
    status text NOT NULL CHECK (status IN ('offered', 'accepted', 'declined')),
    offered_by text NOT NULL,
    offered_at timestamptz NOT NULL,
    answered_by text,
    answered_at timestamptz,
    -- Why the neighbourhood team declined: stays here, never in an event.
    decline_reason text
);
