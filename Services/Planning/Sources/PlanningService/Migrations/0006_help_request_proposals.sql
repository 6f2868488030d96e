-- Issue 5: the volunteers service proposes a volunteer before the family consents; the
-- help request shows that step (`proposed`, with the proposed volunteer) and returns to
-- `open` when the family refuses.
ALTER TABLE help_requests DROP CONSTRAINT help_requests_status_check;
ALTER TABLE help_requests ADD CONSTRAINT help_requests_status_check
    CHECK (status IN ('open', 'proposed', 'matched', 'ended', 'no-volunteer'));
