-- Issue 5: the volunteer centre. Volunteers and their certificate of conduct (VOG), the help
-- requests planning sends, proposals (matches) waiting for the family's consent,
-- assignments with check-ins, hours and concerns, and case consultations per area.
-- Contact details, check-in notes and minutes stay in this schema; events carry ids only.

-- The managed lists of skills and languages a volunteer may name.
CREATE TABLE catalogue (
    kind text NOT NULL CHECK (kind IN ('skill', 'language')),
    code text NOT NULL,
    label text NOT NULL,
    PRIMARY KEY (kind, code)
);
INSERT INTO catalogue (kind, code, label) VALUES
    ('skill', 'homework', 'Hulp bij huiswerk'),
    ('skill', 'administration', 'Post en administratie'),
    ('skill', 'budgeting', 'Omgaan met geld'),
    ('skill', 'sports', 'Samen sporten'),
    ('skill', 'music', 'Muziek'),
    ('skill', 'cooking', 'Koken'),
    ('skill', 'transport', 'Vervoer'),
    ('skill', 'odd-jobs', 'Klussen'),
    ('skill', 'mentoring', 'Maatje, een vast aanspreekpunt'),
    ('skill', 'childcare', 'Oppassen'),
    ('language', 'nl', 'Nederlands'),
    ('language', 'en', 'Engels'),
    ('language', 'ar', 'Arabisch'),
    ('language', 'tr', 'Turks'),
    ('language', 'pl', 'Pools'),
    ('language', 'ti', 'Tigrinya');

CREATE TABLE volunteers (
    -- The volunteer's sign-in subject, so a volunteer's token finds their own record.
    id text PRIMARY KEY,
    name text NOT NULL,
    email text,
    phone text,
    areas text[] NOT NULL,
    skills text[] NOT NULL DEFAULT '{}',
    languages text[] NOT NULL DEFAULT '{}',
    availability text[] NOT NULL DEFAULT '{}',
    help_kinds text[] NOT NULL,
    guide_id text,
    status text NOT NULL CHECK (status IN ('applicant', 'active', 'paused', 'stopped')),
    -- Why the status was last changed by the service itself (for example `certificate-expired`).
    status_reason text,
    consent_given_at timestamptz,
    certificate_issued_on date,
    max_assignments int NOT NULL DEFAULT 2 CHECK (max_assignments BETWEEN 1 AND 10),
    registered_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- A help request as planning raised it; what the coordinator adds (skills, languages and
-- times that suit the family) serves the shortlist.
CREATE TABLE help_requests (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL,
    area text NOT NULL,
    manager_id text,
    kind text NOT NULL CHECK (kind IN ('practical', 'long-term')),
    goal_id text,
    need text NOT NULL,
    skills text[] NOT NULL DEFAULT '{}',
    languages text[] NOT NULL DEFAULT '{}',
    availability text[] NOT NULL DEFAULT '{}',
    status text NOT NULL CHECK (status IN ('open', 'proposed', 'matched', 'ended')),
    raised_at timestamptz NOT NULL
);
CREATE INDEX help_requests_area ON help_requests (area, status, raised_at);

CREATE TABLE proposals (
    id uuid PRIMARY KEY,
    help_request_id uuid NOT NULL REFERENCES help_requests (id),
    volunteer_id text NOT NULL REFERENCES volunteers (id),
    proposed_by text NOT NULL,
    proposed_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('proposed', 'accepted', 'refused', 'withdrawn')),
    decided_by text,
    decided_at timestamptz
);
-- One proposal waits for the family's answer at a time.
CREATE UNIQUE INDEX proposals_one_open ON proposals (help_request_id) WHERE status = 'proposed';

CREATE TABLE assignments (
    id uuid PRIMARY KEY,
    help_request_id uuid NOT NULL REFERENCES help_requests (id),
    case_id uuid NOT NULL,
    volunteer_id text NOT NULL REFERENCES volunteers (id),
    proposal_id uuid NOT NULL REFERENCES proposals (id),
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    end_reason text CHECK (end_reason IN ('goal-reached', 'family-wish', 'volunteer-stopped', 'concern')),
    ended_by text
);
CREATE UNIQUE INDEX assignments_one_active ON assignments (help_request_id) WHERE ended_at IS NULL;
CREATE INDEX assignments_volunteer ON assignments (volunteer_id, started_at);

CREATE TABLE check_ins (
    id uuid PRIMARY KEY,
    assignment_id uuid NOT NULL REFERENCES assignments (id),
    held_on date NOT NULL,
    notes text NOT NULL,
    concern boolean NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX check_ins_assignment ON check_ins (assignment_id, held_on);

CREATE TABLE hours (
    id uuid PRIMARY KEY,
    assignment_id uuid NOT NULL REFERENCES assignments (id),
    worked_on date NOT NULL,
    hours numeric(4, 2) NOT NULL CHECK (hours > 0 AND hours <= 24),
    logged_by text NOT NULL,
    logged_at timestamptz NOT NULL
);
CREATE INDEX hours_assignment ON hours (assignment_id, worked_on);

-- A concern about a family or an assignment, flagged by the volunteer or in a check-in,
-- open until the family manager resolves it.
CREATE TABLE concerns (
    id uuid PRIMARY KEY,
    assignment_id uuid NOT NULL REFERENCES assignments (id),
    raised_by text NOT NULL,
    note text NOT NULL,
    raised_at timestamptz NOT NULL,
    resolved_by text,
    resolved_at timestamptz
);
CREATE INDEX concerns_open ON concerns (assignment_id) WHERE resolved_at IS NULL;

-- Case consultations: per area a rhythm of 3–6 weeks and its meetings.
CREATE TABLE consultation_areas (
    area text PRIMARY KEY,
    every_weeks int NOT NULL CHECK (every_weeks BETWEEN 3 AND 6),
    set_by text NOT NULL,
    set_at timestamptz NOT NULL
);
CREATE TABLE consultations (
    id uuid PRIMARY KEY,
    area text NOT NULL REFERENCES consultation_areas (area),
    meets_on date NOT NULL,
    minutes text,
    minutes_by text,
    minutes_at timestamptz,
    UNIQUE (area, meets_on)
);
