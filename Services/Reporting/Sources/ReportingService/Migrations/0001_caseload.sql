-- Read model of open cases, built from intake's and planning's events. Events of one case
-- arrive on two topics, so each column is filled by whichever event brings it, in any order.
CREATE TABLE case_projection (
    case_id uuid PRIMARY KEY,
    area text,
    framework text,
    manager_id text,
    phase text,
    phase_changed_at timestamptz,
    opened_at timestamptz
);
CREATE INDEX case_projection_area_phase ON case_projection (area, phase);
