-- Issue 17: a volunteer's current status is the one with the registry's highest sequence
-- (VolunteerChanged.sequence), not the latest `at`: a status can take effect before the
-- event that came first (a certificate that had run out when the volunteer registered).
ALTER TABLE volunteer_facts ADD COLUMN status_sequence integer;
