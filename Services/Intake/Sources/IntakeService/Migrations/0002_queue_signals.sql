-- Issue 3: the area queue, re-referrals, reassignment history, court orders, signals.

-- A family whose previous case closed less than 12 months ago comes back as a re-referral.
ALTER TABLE cases ADD COLUMN re_referral boolean NOT NULL DEFAULT false;
ALTER TABLE cases ADD COLUMN previous_case_id uuid REFERENCES cases (id);
-- Since when the case waits for a family manager (its place in the area's queue).
ALTER TABLE cases ADD COLUMN queued_at timestamptz;
UPDATE cases SET queued_at = opened_at;
ALTER TABLE cases ALTER COLUMN queued_at SET NOT NULL;
CREATE INDEX cases_waiting ON cases (area, queued_at) WHERE status = 'open' AND manager_id IS NULL;
CREATE INDEX cases_closed_family ON cases (family_id, closed_at) WHERE status = 'closed';

-- Every (re)assignment, with who decided and why: one family keeps one manager unless a
-- team lead says otherwise, and that is accountable.
CREATE TABLE assignments (
    id bigserial PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    manager_id text NOT NULL REFERENCES managers (id),
    previous_manager_id text,
    assigned_at timestamptz NOT NULL,
    assigned_by text NOT NULL,
    reason text
);
CREATE INDEX assignments_case ON assignments (case_id, assigned_at);

-- Neighbourhood signals, typed; the raw table of the first version is replaced.
DROP TABLE signals;
CREATE TABLE nuisance_reports (
    source text NOT NULL,
    report_id text NOT NULL,
    area text NOT NULL,
    reported_on date NOT NULL,
    category text NOT NULL,
    case_id uuid REFERENCES cases (id),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, report_id)
);
CREATE INDEX nuisance_reports_area ON nuisance_reports (area, reported_on);
CREATE INDEX nuisance_reports_case ON nuisance_reports (case_id) WHERE case_id IS NOT NULL;

CREATE TABLE placements (
    id bigserial PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    member_ref text NOT NULL,
    kind text NOT NULL,
    started_on date,
    ended_on date,
    event_source text NOT NULL,
    event_id text NOT NULL,
    UNIQUE (event_source, event_id)
);
CREATE INDEX placements_case ON placements (case_id, member_ref);

CREATE TABLE signal_rejections (
    event_source text NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    problems jsonb NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_source, event_id)
);
