-- Issue 4: help requests: a need the family chose to work on, and whether it wants a
-- volunteer for it. The volunteers service answers (assignment started, ended).
CREATE TABLE help_requests (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    need text NOT NULL,
    goal_id text,
    volunteer_kind text NOT NULL CHECK (volunteer_kind IN ('none', 'practical', 'long-term')),
    status text NOT NULL CHECK (status IN ('open', 'matched', 'ended', 'no-volunteer')),
    volunteer_id text,
    matched_at timestamptz,
    ended_at timestamptz,
    end_reason text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX help_requests_case ON help_requests (case_id, created_at);
