-- The SQL intake runs for one batch of 500 referrals of new families in areas with room,
-- for pgbench: the consumer's transaction (EventConsumerService.swift, ReferralDesk.swift,
-- ReferralStore.swift, Caseload.swift, Outbox.swift) and the outbox relay's work for the
-- batch's 1,500 events (OutboxRelay.swift). scripts/bench_intake.py runs it as the `intake` role and counts
-- 500 referrals per transaction.
--
-- Intake passes each statement's rows as parameters. pgbench cannot bind generated arrays,
-- so the first statement generates the batch into a temporary table and every statement
-- reads its "parameter" from there with a one-row sub-select. The bench reports pgbench's
-- rate without that first statement (pgbench -r gives each statement's latency), so the
-- comparison is statement for statement.
\set run random(1, 2000000000)
BEGIN;
CREATE TEMP TABLE batch ON COMMIT DROP AS
WITH g AS (
    SELECT n, gen_random_uuid() AS case_id, gen_random_uuid() AS family_id,
           'bench-' || lpad((n % 20 + 1)::text, 2, '0') AS area,
           'pg-' || :run || '-' || n AS referral_id,
           'kind' || n || '|f' || :run || '|2015-01-01' AS child_key
    FROM generate_series(1, 500) AS n)
SELECT
    array_agg('nl.samenplan.referral.submitted.v1'::text) AS event_types,
    array_agg(child_key) || array_agg('referral:/integrators/pgbench:' || referral_id) AS lock_keys,
    array_agg('/integrators/pgbench'::text) AS sources,
    array_agg(referral_id) AS referral_ids,
    array_agg(child_key) AS child_keys,
    array_agg(DISTINCT area) AS areas,
    array_agg(family_id) AS family_ids,
    array_agg(area) AS family_areas,
    array_agg(family_id) || array_agg(family_id) AS member_families,
    array_agg('p'::text) || array_agg('c'::text) AS member_refs,
    array_agg('parent'::text) || array_agg('child'::text) AS member_roles,
    array_agg('Ouder'::text) || array_agg('Kind' || n) AS member_given_names,
    array_agg('F' || n) || array_agg('F' || n) AS member_family_names,
    array_agg(''::text) || array_agg('2015-01-01'::text) AS member_birth_dates,
    array_agg(''::text) || array_agg(child_key) AS member_child_keys,
    array_agg(case_id) AS case_ids,
    array_agg('voluntary'::text) AS frameworks,
    array_agg('normal'::text) AS urgencies,
    array_agg(area) AS case_areas,
    array_agg(''::text) AS no_texts,
    array_agg(false) AS falses,
    array_agg('fm-' || area) AS manager_ids,
    array_agg('Benchmark'::text) AS organisations,
    array_agg('/integrators/pgbench'::text) AS audit_actors, array_agg('integrator'::text) AS audit_roles,
    array_agg('referral-opened-case'::text) AS audit_actions, array_agg('referral'::text) AS audit_types,
    array_agg(case_id::text) AS audit_cases, array_agg('allowed'::text) AS audit_outcomes,
    (SELECT array_agg(gen_random_uuid()::text) FROM generate_series(1, 1500)) AS event_ids,
    array_agg('samenplan.intake.v1'::text) || array_agg('samenplan.intake.v1'::text) || array_agg('samenplan.intake.v1'::text) AS topics,
    array_agg(case_id::text) || array_agg(case_id::text) || array_agg(case_id::text) AS keys,
    array_agg(repeat('x', 424)) || array_agg(repeat('y', 516)) || array_agg(repeat('z', 412)) AS events,
    array_agg(''::text) || array_agg(''::text) || array_agg(''::text) AS traceparents
FROM g;
-- EventConsumerService: the batch's inbox claim.
INSERT INTO inbox (source, event_id, event_type)
SELECT * FROM unnest((SELECT sources FROM batch), (SELECT referral_ids FROM batch), (SELECT event_types FROM batch))
ON CONFLICT DO NOTHING RETURNING source, event_id;
-- ReferralStore.lock
SELECT pg_advisory_xact_lock(-1, b)
FROM (SELECT DISTINCT (abs(hashtextextended(k, 0)) % 128)::int AS b
      FROM unnest((SELECT lock_keys FROM batch)) AS k ORDER BY b) AS buckets;
-- ReferralStore.snapshot
SELECT r.source, r.referral_id, r.case_id
FROM unnest((SELECT sources FROM batch), (SELECT referral_ids FROM batch)) AS k(source, referral_id),
     LATERAL (SELECT * FROM referrals r WHERE r.source = k.source AND r.referral_id = k.referral_id OFFSET 0) AS r;
SELECT m.child_key, c.id, c.family_id, c.status = 'open', c.opened_at, c.closed_at, c.manager_id,
       c.court_order_decided_on::text, c.court_order_ends_on::text
FROM unnest((SELECT child_keys FROM batch)) AS k(child_key),
     LATERAL (SELECT * FROM members m WHERE m.child_key = k.child_key OFFSET 0) AS m,
     LATERAL (SELECT * FROM cases c WHERE c.family_id = m.family_id AND c.status = 'open'
              UNION ALL
              SELECT * FROM cases c
              WHERE c.family_id = m.family_id AND c.status = 'closed' AND c.closed_at > now() - interval '365 days') AS c;
-- Caseload.load: Caseload.lock (the areas, then their managers with their free places), the queues
SELECT pg_advisory_xact_lock(hashtextextended('area:' || a, 0))
FROM (SELECT a FROM unnest((SELECT areas FROM batch)) AS a ORDER BY a COLLATE "C") AS areas;
SELECT id, areas, max_caseload - open_cases FROM managers
WHERE areas && (SELECT areas FROM batch) OR id = ANY('{}'::text[])
ORDER BY id FOR UPDATE;
SELECT area, waiting FROM area_queues WHERE area = ANY((SELECT areas FROM batch)::text[]);
-- ReferralWrites.flush
INSERT INTO families (id, area)
SELECT * FROM unnest((SELECT family_ids FROM batch), (SELECT family_areas FROM batch));
INSERT INTO members (family_id, member_ref, role, given_name, family_name, birth_date, child_key)
SELECT family_id, member_ref, role, given_name, family_name, NULLIF(birth_date, '')::date, NULLIF(child_key, '')
FROM unnest((SELECT member_families FROM batch), (SELECT member_refs FROM batch), (SELECT member_roles FROM batch),
            (SELECT member_given_names FROM batch), (SELECT member_family_names FROM batch),
            (SELECT member_birth_dates FROM batch), (SELECT member_child_keys FROM batch))
    WITH ORDINALITY AS m(family_id, member_ref, role, given_name, family_name, birth_date, child_key, n)
ORDER BY n
ON CONFLICT DO NOTHING;
INSERT INTO cases (id, family_id, framework, urgency, area, court_order_decided_on, court_order_ends_on,
                   opened_at, queued_at, re_referral, previous_case_id, preferred_manager_id, manager_id)
SELECT id, family_id, framework, urgency, area, NULLIF(decided_on, '')::date, NULLIF(ends_on, '')::date,
       now(), now(), re_referral, NULLIF(previous_case_id, '')::uuid, NULLIF(preferred_manager_id, ''),
       NULLIF(manager_id, '')
FROM unnest((SELECT case_ids FROM batch), (SELECT family_ids FROM batch), (SELECT frameworks FROM batch),
            (SELECT urgencies FROM batch), (SELECT case_areas FROM batch), (SELECT no_texts FROM batch),
            (SELECT no_texts FROM batch), (SELECT falses FROM batch), (SELECT no_texts FROM batch),
            (SELECT no_texts FROM batch), (SELECT manager_ids FROM batch))
    AS c(id, family_id, framework, urgency, area, decided_on, ends_on, re_referral, previous_case_id,
         preferred_manager_id, manager_id);
INSERT INTO assignments (case_id, manager_id, assigned_at, assigned_by)
SELECT case_id, manager_id, now(), 'intake'
FROM unnest((SELECT case_ids FROM batch), (SELECT manager_ids FROM batch)) WITH ORDINALITY AS a(case_id, manager_id, n)
ORDER BY n;
INSERT INTO referrals (source, referral_id, event_id, case_id, joined_existing_case, framework, urgency, area,
                       referrer_organisation, referrer_contact, reason, received_at)
SELECT source, referral_id, event_id, case_id, joined, framework, urgency, area, organisation,
       NULLIF(contact, ''), NULLIF(reason, ''), now()
FROM unnest((SELECT sources FROM batch), (SELECT referral_ids FROM batch), (SELECT referral_ids FROM batch),
            (SELECT case_ids FROM batch), (SELECT falses FROM batch), (SELECT frameworks FROM batch),
            (SELECT urgencies FROM batch), (SELECT case_areas FROM batch), (SELECT organisations FROM batch),
            (SELECT no_texts FROM batch), (SELECT no_texts FROM batch))
    AS r(source, referral_id, event_id, case_id, joined, framework, urgency, area, organisation, contact, reason);
INSERT INTO audit_log (actor, role, action, resource_type, resource_id, case_id, outcome)
SELECT actor, role, action, resource_type, resource_id, NULLIF(case_id, '')::uuid, outcome
FROM unnest((SELECT audit_actors FROM batch), (SELECT audit_roles FROM batch), (SELECT audit_actions FROM batch),
            (SELECT audit_types FROM batch), (SELECT referral_ids FROM batch), (SELECT audit_cases FROM batch),
            (SELECT audit_outcomes FROM batch))
    AS e(actor, role, action, resource_type, resource_id, case_id, outcome);
INSERT INTO outbox (event_id, topic, kafka_key, event, traceparent)
SELECT id, topic, NULLIF(key, ''), event, NULLIF(traceparent, '')
FROM unnest((SELECT event_ids FROM batch), (SELECT topics FROM batch), (SELECT keys FROM batch),
            (SELECT events FROM batch), (SELECT traceparents FROM batch))
    WITH ORDINALITY AS e(id, topic, key, event, traceparent, n)
ORDER BY n;
END;
-- OutboxRelay.publishBatch: read the unsent events in order, publish them (Kafka, not SQL),
-- mark them sent. The relay reads up to 2,000 a transaction; here the batch's 1,500.
BEGIN;
SELECT pg_try_advisory_xact_lock(hashtext('intake.outbox-relay'));
SELECT seq, topic, kafka_key, event, traceparent FROM outbox WHERE sent_at IS NULL
ORDER BY seq LIMIT 1500 FOR UPDATE SKIP LOCKED;
-- (The relay binds the array of the rows it read; pgbench selects their numbers again.)
UPDATE outbox SET sent_at = statement_timestamp()
WHERE seq = ANY(ARRAY(SELECT seq FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 1500));
END;
