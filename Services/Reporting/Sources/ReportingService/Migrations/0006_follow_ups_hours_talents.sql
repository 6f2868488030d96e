-- Issue 7: follow-ups held on time, volunteers' hours, talents moved to a further ILW stage.

-- One row per follow-up of a closed case (the months after closure it was agreed for). The
-- day it was due comes from follow-up.due (the timer's moment) or, authoritative, from
-- follow-up.recorded, which also brings the day it was held.
CREATE TABLE follow_up_facts (
    case_id uuid NOT NULL,
    months integer NOT NULL,
    due_on date,
    held_on date,
    PRIMARY KEY (case_id, months)
);
CREATE INDEX follow_up_facts_due ON follow_up_facts (due_on);

-- Every entry of hours a volunteer logged.
CREATE TABLE hours_facts (
    hours_id uuid PRIMARY KEY,
    case_id uuid NOT NULL,
    area text NOT NULL,
    worked_on date NOT NULL,
    hours double precision NOT NULL
);
CREATE INDEX hours_facts_worked ON hours_facts (worked_on);

-- Every approved plan version: how many talents moved to a further stage since the version
-- approved before it.
CREATE TABLE talent_facts (
    case_id uuid NOT NULL,
    version integer NOT NULL,
    moved_on integer NOT NULL,
    approved_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, version)
);
