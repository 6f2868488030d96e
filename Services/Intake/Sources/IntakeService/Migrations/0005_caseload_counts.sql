-- Issue 3: each manager's open cases and each area's waiting cases, kept as counts. A batch
-- of referrals reads them per manager and per area instead of counting every open case of
-- its areas (which grew with the caseload: a third of a batch's database time at 10,000
-- open cases). Triggers keep them, so no way of changing a case can forget to.
--
-- Lock order (Caseload.swift): whoever changes a case's manager or status holds the case's
-- area lock and then its managers' rows (in id order) before the change, so the rows these
-- triggers update are already theirs.

ALTER TABLE managers ADD COLUMN open_cases integer NOT NULL DEFAULT 0 CHECK (open_cases >= 0);
UPDATE managers m SET open_cases = (SELECT count(*) FROM cases c WHERE c.manager_id = m.id AND c.status = 'open');

CREATE TABLE area_queues (
    area text PRIMARY KEY,
    waiting integer NOT NULL CHECK (waiting >= 0)
);
INSERT INTO area_queues (area, waiting)
SELECT area, count(*) FROM cases WHERE status = 'open' AND manager_id IS NULL GROUP BY area;

CREATE FUNCTION cases_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE managers m SET open_cases = m.open_cases + d.n
    FROM (SELECT manager_id, count(*) AS n FROM new_cases
          WHERE status = 'open' AND manager_id IS NOT NULL GROUP BY manager_id) AS d
    WHERE m.id = d.manager_id;
    INSERT INTO area_queues AS q (area, waiting)
    SELECT area, count(*) FROM new_cases WHERE status = 'open' AND manager_id IS NULL GROUP BY area
    ON CONFLICT (area) DO UPDATE SET waiting = q.waiting + excluded.waiting;
    RETURN NULL;
END $$;

-- A change counts +1 for each row as it is now and -1 for each row as it was; one that moves
-- nothing (a court order's dates) updates no row.
CREATE FUNCTION cases_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE managers m SET open_cases = m.open_cases + d.n
    FROM (SELECT manager_id, sum(n) AS n
          FROM (SELECT manager_id, 1 AS n FROM new_cases WHERE status = 'open' AND manager_id IS NOT NULL
                UNION ALL
                SELECT manager_id, -1 FROM old_cases WHERE status = 'open' AND manager_id IS NOT NULL) AS changes
          GROUP BY manager_id HAVING sum(n) <> 0) AS d
    WHERE m.id = d.manager_id;
    -- An update first: a row with a negative count may not even be proposed (its CHECK
    -- comes before ON CONFLICT). A falling count's area has a row: its case waited there.
    WITH d AS (
        SELECT area, sum(n) AS n
        FROM (SELECT area, 1 AS n FROM new_cases WHERE status = 'open' AND manager_id IS NULL
              UNION ALL
              SELECT area, -1 FROM old_cases WHERE status = 'open' AND manager_id IS NULL) AS changes
        GROUP BY area HAVING sum(n) <> 0),
    counted AS (
        UPDATE area_queues q SET waiting = q.waiting + d.n FROM d WHERE q.area = d.area RETURNING q.area)
    INSERT INTO area_queues (area, waiting)
    SELECT area, n FROM d WHERE area NOT IN (SELECT area FROM counted);
    RETURN NULL;
END $$;

CREATE TRIGGER cases_count_inserted AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_cases
    FOR EACH STATEMENT EXECUTE FUNCTION cases_count_inserted();
CREATE TRIGGER cases_count_updated AFTER UPDATE ON cases
    REFERENCING OLD TABLE AS old_cases NEW TABLE AS new_cases
    FOR EACH STATEMENT EXECUTE FUNCTION cases_count_updated();
