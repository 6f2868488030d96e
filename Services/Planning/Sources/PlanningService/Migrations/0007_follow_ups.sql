-- Issue 7: the follow-ups held after a case closed, as the continuation plan agreed them
-- (default 6 and 12 months), so reporting can tell whether they were held on time. One per
-- agreed month of a closure; whether the children were still safe stays here, the event
-- (follow-up.recorded) carries the dates only.
CREATE TABLE follow_ups (
    case_id uuid NOT NULL REFERENCES cases (id),
    -- The closure the follow-up belongs to: a case reopened by a re-referral and closed
    -- again has follow-ups of its own.
    closed_at timestamptz NOT NULL,
    months integer NOT NULL CHECK (months BETWEEN 1 AND 60),
    -- The closing day plus `months` (Europe/Amsterdam): the day follow-up.due fired.
    due_on date NOT NULL,
    held_on date NOT NULL,
    children_safe boolean NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, closed_at, months)
);
