-- The SQL planning runs for PUT /v1/cases/{id}/plan (PlanRoutes.swift, CaseAccess.find,
-- PlanStore, Outbox.swift), one transaction per new version, for pgbench; the relay's
-- publishing of the event is not part of the request and not here either.
\set n random(1, 1000)
BEGIN;
SELECT area, framework, urgency, manager_id, phase, opened_at, phase_changed_at FROM cases WHERE id = md5('bench-' || :n)::uuid FOR UPDATE;
INSERT INTO audit_log (actor, role, action, resource_type, resource_id, case_id, outcome) SELECT actor, role, action, resource_type, resource_id, NULLIF(case_id, '')::uuid, outcome FROM unnest(ARRAY['fm-bench'], ARRAY['family-manager'], ARRAY['propose'], ARRAY['plan'], ARRAY[md5('bench-' || :n)], ARRAY[md5('bench-' || :n)::uuid::text], ARRAY['allowed']) AS e(actor, role, action, resource_type, resource_id, case_id, outcome);
SELECT COALESCE(max(version), 0) AS current FROM plan_versions WHERE case_id = md5('bench-' || :n)::uuid \gset
INSERT INTO plan_versions (case_id, version, content, reason, author, created_at) VALUES (md5('bench-' || :n)::uuid, :current + 1, '{"concerns":["Ruzies in huis"],"currentSituation":"Moeder alleen met twee kinderen; schulden.","goals":[{"dueOn":"2027-03-01","id":"g1","responsible":{"kind":"member","who":"p1"},"what":"Vaste bedtijden"},{"dueOn":"2027-06-01","id":"g2","responsible":{"kind":"organisation","who":"Schuldhulp"},"what":"Schulden in beeld"}],"safetyAgreements":["Bij ruzie belt moeder oma"],"strengths":["Oma helpt elke woensdag"],"talents":[{"ageBand":"4-12","memberRef":"c1","stage":"inspire","talent":"voetbal"}]}'::jsonb, 'Bench: goal dates moved', 'fm-bench', now());
INSERT INTO outbox (event_id, topic, kafka_key, event, traceparent) SELECT gen_random_uuid()::text, 'samenplan.planning.v1', md5('bench-' || :n), repeat('x', 420), NULL;
END;
