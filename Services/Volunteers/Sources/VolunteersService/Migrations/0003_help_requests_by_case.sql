-- A case moved to another family manager (planning's case.manager-changed) moves every help
-- request of the case: found by case, not by scanning them all.
CREATE INDEX help_requests_case ON help_requests (case_id);
