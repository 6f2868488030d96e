-- Issue 18, finding 1: a referral that joins a family's open case no longer adds people to
-- the family by itself. A child the family already has (the same child key) or a member it
-- already has (the same role, names and birth date) is recognised and never stored twice;
-- everyone else is proposed to the case's family manager, who confirms or refuses each
-- (audited). Until then the proposal is no member: no volunteer, report or export sees it.
CREATE TABLE member_proposals (
    id uuid PRIMARY KEY,
    family_id uuid NOT NULL REFERENCES families (id),
    case_id uuid NOT NULL REFERENCES cases (id),
    -- The referral that proposed the member.
    source text NOT NULL,
    referral_id text NOT NULL,
    member_ref text NOT NULL,
    role text NOT NULL,
    given_name text NOT NULL,
    family_name text NOT NULL,
    birth_date date,
    child_key text,
    status text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'confirmed', 'refused')),
    proposed_at timestamptz NOT NULL,
    decided_by text,
    decided_at timestamptz,
    -- Why a proposal was refused, or the member reference it was confirmed under.
    note text
);
CREATE INDEX member_proposals_open ON member_proposals (case_id) WHERE status = 'proposed';
