-- Intake owns referrals, families and members, family managers and areas, and the caseload.

-- Family managers (gezinsmanagers) and the areas (gebieden) they work in.
CREATE TABLE managers (
    id text PRIMARY KEY,
    display_name text NOT NULL,
    areas text[] NOT NULL,
    max_caseload integer NOT NULL CHECK (max_caseload >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX managers_areas ON managers USING gin (areas);

CREATE TABLE families (
    id uuid PRIMARY KEY,
    area text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Personal data: names and birth dates stay here and never go into an event.
CREATE TABLE members (
    family_id uuid NOT NULL REFERENCES families (id),
    member_ref text NOT NULL,
    role text NOT NULL,
    given_name text NOT NULL,
    family_name text NOT NULL,
    birth_date date,
    -- Identifies "the same child" across referrals (case- and accent-insensitive).
    child_key text,
    PRIMARY KEY (family_id, member_ref)
);
CREATE INDEX members_child_key ON members (child_key) WHERE child_key IS NOT NULL;

-- One family, one open case.
CREATE TABLE cases (
    id uuid PRIMARY KEY,
    family_id uuid NOT NULL REFERENCES families (id),
    framework text NOT NULL,
    urgency text NOT NULL,
    area text NOT NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    manager_id text REFERENCES managers (id),
    court_order_decided_on date,
    court_order_ends_on date,
    opened_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz
);
CREATE UNIQUE INDEX cases_one_open_per_family ON cases (family_id) WHERE status = 'open';
CREATE INDEX cases_open_by_manager ON cases (manager_id) WHERE status = 'open';

-- Every accepted referral; the same source + referralId is one referral.
CREATE TABLE referrals (
    source text NOT NULL,
    referral_id text NOT NULL,
    event_id text NOT NULL,
    case_id uuid NOT NULL REFERENCES cases (id),
    joined_existing_case boolean NOT NULL,
    framework text NOT NULL,
    urgency text NOT NULL,
    area text NOT NULL,
    referrer_organisation text NOT NULL,
    referrer_contact text,
    reason text,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, referral_id)
);

-- Rejected referral events, so a resent copy gets the same answer.
CREATE TABLE rejections (
    event_source text NOT NULL,
    event_id text NOT NULL,
    referral_id text,
    problems jsonb NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_source, event_id)
);

-- Neighbourhood signals (nuisance reports, placements): ids, codes and dates only.
CREATE TABLE signals (
    event_source text NOT NULL,
    event_id text NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_source, event_id)
);
