-- Issue 7: outcomes (placements, nuisance reports, goals) and volunteers. One row per fact,
-- keyed so that a redelivered event changes nothing.
CREATE TABLE placement_facts (
    case_id uuid NOT NULL,
    member_ref text NOT NULL,
    change text NOT NULL,
    on_day date NOT NULL,
    PRIMARY KEY (case_id, member_ref, change, on_day)
);
CREATE TABLE nuisance_facts (
    report_id text PRIMARY KEY,
    case_id uuid,
    area text NOT NULL,
    reported_on date NOT NULL
);
CREATE INDEX nuisance_facts_case ON nuisance_facts (case_id, reported_on);
CREATE TABLE goal_facts (
    case_id uuid NOT NULL,
    version int NOT NULL,
    goal_id text NOT NULL,
    change text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (case_id, version, goal_id)
);
CREATE TABLE volunteer_facts (
    volunteer_id text PRIMARY KEY,
    status text NOT NULL,
    areas text[] NOT NULL,
    status_at timestamptz NOT NULL
);
CREATE TABLE help_request_facts (
    help_request_id uuid PRIMARY KEY,
    case_id uuid NOT NULL,
    area text,
    raised_at timestamptz,
    matched_at timestamptz
);
CREATE TABLE assignment_facts (
    assignment_id uuid PRIMARY KEY,
    help_request_id uuid NOT NULL,
    started_at timestamptz,
    ended_at timestamptz,
    end_reason text
);
