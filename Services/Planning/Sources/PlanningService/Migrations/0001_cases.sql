-- Planning owns the case and its phase (connect → support → secure → closed).
CREATE TABLE cases (
    id uuid PRIMARY KEY,
    area text NOT NULL,
    framework text NOT NULL,
    urgency text NOT NULL,
    manager_id text,
    phase text NOT NULL CHECK (phase IN ('connect', 'support', 'secure', 'closed')),
    opened_at timestamptz NOT NULL,
    phase_changed_at timestamptz NOT NULL
);
CREATE INDEX cases_manager ON cases (manager_id);
CREATE INDEX cases_area ON cases (area);

CREATE TABLE phase_history (
    case_id uuid NOT NULL REFERENCES cases (id),
    phase text NOT NULL,
    previous_phase text,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, changed_at, phase)
);
