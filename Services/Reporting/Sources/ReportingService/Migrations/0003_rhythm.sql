-- Issue 7: the evaluations held, for the rhythm figures (evaluations within 8 weeks,
-- overdue now). One row per evaluation.recorded event.
CREATE TABLE evaluation_facts (
    event_source text NOT NULL,
    event_id text NOT NULL,
    case_id uuid NOT NULL,
    held_on date NOT NULL,
    PRIMARY KEY (event_source, event_id)
);
CREATE INDEX evaluation_facts_case ON evaluation_facts (case_id, held_on);
