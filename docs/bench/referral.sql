-- The SQL intake runs for one referral of a new family in an area with room
-- (Services/Intake/Sources/IntakeService/ReferralDesk.swift, Caseload.swift, Outbox.swift),
-- one transaction per referral, for pgbench: scripts/bench_intake.py runs it as the `intake`
-- role, so the tables are intake's own.
\set n random(1, 2000000000)
\set area random(1, 20)
BEGIN;
SELECT gen_random_uuid() AS case_id, gen_random_uuid() AS family_id, gen_random_uuid() AS event_id \gset
INSERT INTO inbox (source, event_id, event_type) VALUES ('/integrators/pgbench', ':event_id', 'nl.samenplan.referral.submitted.v1') ON CONFLICT DO NOTHING RETURNING 1;
SELECT pg_advisory_xact_lock(hashtextextended('kind:n|pgbench|:n', 0));
SELECT pg_advisory_xact_lock(hashtextextended('referral:/integrators/pgbench::event_id', 0));
SELECT case_id FROM referrals WHERE source = '/integrators/pgbench' AND referral_id = ':event_id';
SELECT c.id, c.family_id FROM members m JOIN cases c ON c.family_id = m.family_id AND c.status = 'open' WHERE m.child_key = ANY(ARRAY['kind:n|pgbench|:n']) ORDER BY c.opened_at LIMIT 1;
SELECT c.id, c.family_id, c.manager_id FROM members m JOIN cases c ON c.family_id = m.family_id WHERE m.child_key = ANY(ARRAY['kind:n|pgbench|:n']) AND c.status = 'closed' AND c.closed_at > now() - interval '365 days' ORDER BY c.closed_at DESC LIMIT 1;
INSERT INTO families (id, area) VALUES (':family_id', 'bench-' || lpad(:area::text, 2, '0'));
INSERT INTO members (family_id, member_ref, role, given_name, family_name, birth_date, child_key) VALUES (':family_id', 'p', 'parent', 'Ouder', 'F', NULL, NULL) ON CONFLICT DO NOTHING;
INSERT INTO members (family_id, member_ref, role, given_name, family_name, birth_date, child_key) VALUES (':family_id', 'c', 'child', 'Kind', 'F', '2015-01-01', 'kind:n|pgbench|:n') ON CONFLICT DO NOTHING;
INSERT INTO cases (id, family_id, framework, urgency, area, court_order_decided_on, court_order_ends_on, opened_at, queued_at, re_referral, previous_case_id) VALUES (':case_id', ':family_id', 'voluntary', 'normal', 'bench-' || lpad(:area::text, 2, '0'), NULL, NULL, now(), now(), false, NULL);
INSERT INTO referrals (source, referral_id, event_id, case_id, joined_existing_case, framework, urgency, area, referrer_organisation, referrer_contact, reason) VALUES ('/integrators/pgbench', ':event_id', ':event_id', ':case_id', false, 'voluntary', 'normal', 'bench-' || lpad(:area::text, 2, '0'), 'Benchmark', NULL, NULL);
INSERT INTO audit_log (actor, role, action, resource_type, resource_id, case_id, outcome) VALUES ('/integrators/pgbench', 'integrator', 'referral-opened-case', 'referral', ':event_id', ':case_id', 'allowed');
INSERT INTO outbox (event_id, topic, kafka_key, event, traceparent) VALUES (gen_random_uuid()::text, 'samenplan.intake.v1', ':case_id', '{"data":{"caseId":":case_id"},"type":"nl.samenplan.referral.accepted.v1"}', NULL);
INSERT INTO outbox (event_id, topic, kafka_key, event, traceparent) VALUES (gen_random_uuid()::text, 'samenplan.intake.v1', ':case_id', '{"data":{"caseId":":case_id"},"type":"nl.samenplan.case.opened.v1"}', NULL);
SELECT pg_advisory_xact_lock(hashtextextended('area:bench-' || lpad(:area::text, 2, '0'), 0));
SELECT id, queued_at FROM cases WHERE area = 'bench-' || lpad(:area::text, 2, '0') AND status = 'open' AND manager_id IS NULL ORDER BY (urgency = 'urgent') DESC, queued_at, id LIMIT 1;
WITH area_managers AS (SELECT id, max_caseload FROM managers WHERE 'bench-' || lpad(:area::text, 2, '0') = ANY(areas) ORDER BY id FOR UPDATE) SELECT m.id FROM area_managers m LEFT JOIN cases c ON c.manager_id = m.id AND c.status = 'open' GROUP BY m.id, m.max_caseload HAVING m.max_caseload - count(c.id) > 0 ORDER BY m.max_caseload - count(c.id) DESC, m.id LIMIT 1;
UPDATE cases SET manager_id = 'fm-bench-' || lpad(:area::text, 2, '0') WHERE id = ':case_id';
INSERT INTO assignments (case_id, manager_id, assigned_at, assigned_by) VALUES (':case_id', 'fm-bench-' || lpad(:area::text, 2, '0'), now(), 'intake');
SELECT id, queued_at FROM cases WHERE area = 'bench-' || lpad(:area::text, 2, '0') AND status = 'open' AND manager_id IS NULL ORDER BY (urgency = 'urgent') DESC, queued_at, id LIMIT 1;
INSERT INTO outbox (event_id, topic, kafka_key, event, traceparent) VALUES (gen_random_uuid()::text, 'samenplan.intake.v1', ':case_id', '{"data":{"caseId":":case_id"},"type":"nl.samenplan.case.assigned.v1"}', NULL);
END;
