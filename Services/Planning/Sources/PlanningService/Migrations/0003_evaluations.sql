-- Issue 4: evaluations with everyone, every 6–8 weeks in the support phase.
CREATE TABLE evaluations (
    id bigserial PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    held_on date NOT NULL,
    -- Who took part (members by reference, the network, organisations): the family's own words.
    attendees jsonb NOT NULL,
    outcome text NOT NULL,
    plan_adjusted boolean NOT NULL,
    -- The phase the case was in when the evaluation was held.
    phase text NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX evaluations_case ON evaluations (case_id, held_on);
