-- Issue 7: the facts the flow and caseload figures are computed from. Every column is filled
-- by whichever event brings it, in any order, and every write is idempotent (a redelivered
-- event changes nothing), so the projection can be rebuilt by replaying the topics.
ALTER TABLE case_projection
    ADD COLUMN re_referral boolean,
    ADD COLUMN queued_at timestamptz,
    ADD COLUMN assigned_at timestamptz,
    -- The latest assignment's moment: a late copy of an older one never moves the manager back.
    ADD COLUMN manager_assigned_at timestamptz,
    -- Seconds the case waited in its area's queue before a manager had room (0 when none).
    ADD COLUMN waited_seconds integer,
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN handover_accepted_at timestamptz;

-- Every phase a case entered, and when: days in a phase run from entering it to entering
-- the next.
CREATE TABLE phase_entries (
    case_id uuid NOT NULL,
    phase text NOT NULL,
    entered_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, entered_at, phase)
);

-- Every accepted referral, joins of an open case included.
CREATE TABLE referral_facts (
    event_source text NOT NULL,
    event_id text NOT NULL,
    case_id uuid NOT NULL,
    joined boolean NOT NULL,
    accepted_at timestamptz NOT NULL,
    PRIMARY KEY (event_source, event_id)
);
CREATE INDEX referral_facts_accepted ON referral_facts (accepted_at);
