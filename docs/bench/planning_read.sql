-- The SQL planning runs for GET /v1/cases/{id} (CaseAccess.find, CaseRoutes.swift), one
-- transaction per read, for pgbench: scripts/bench_planning.py runs it as the `planning`
-- role against the same seeded cases (ids md5('bench-<n>')::uuid).
\set n random(1, 1000)
BEGIN;
SELECT area, framework, urgency, manager_id, phase, opened_at, phase_changed_at FROM cases WHERE id = md5('bench-' || :n)::uuid;
INSERT INTO audit_log (actor, role, action, resource_type, resource_id, case_id, outcome) SELECT actor, role, action, resource_type, resource_id, NULLIF(case_id, '')::uuid, outcome FROM unnest(ARRAY['fm-bench'], ARRAY['family-manager'], ARRAY['read'], ARRAY['case'], ARRAY[md5('bench-' || :n)], ARRAY[md5('bench-' || :n)::uuid::text], ARRAY['allowed']) AS e(actor, role, action, resource_type, resource_id, case_id, outcome);
SELECT phase, changed_at FROM phase_history WHERE case_id = md5('bench-' || :n)::uuid ORDER BY changed_at;
END;
