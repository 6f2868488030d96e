-- Issue 18, finding 3, and issue 17: a service's event changes only the recipients of the
-- role that service manages (intake: family managers; volunteers: volunteers), so a volunteer
-- registered under a team lead's id cannot take over the team lead's messages; and a
-- volunteer's status is the one with the registry's highest sequence (VolunteerChanged).
ALTER TABLE recipients
    ADD COLUMN status_sequence integer,
    ADD COLUMN status_at timestamptz;
