-- Issue 17: the registry's count of a volunteer's status records, published with every
-- volunteer.registered and volunteer.status-changed event as `sequence`, so that every
-- consumer keeps the status the registry has, whatever order or `at` the events carry.
ALTER TABLE volunteers ADD COLUMN status_sequence integer NOT NULL DEFAULT 1;
