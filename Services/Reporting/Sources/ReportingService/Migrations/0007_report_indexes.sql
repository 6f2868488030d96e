-- Issue 7: report queries under 50 ms at 100,000 events. The flow and rhythm reports first
-- pick the cases with a phase entry or an evaluation in the period.
CREATE INDEX phase_entries_entered ON phase_entries (entered_at);
CREATE INDEX evaluation_facts_held ON evaluation_facts (held_on);
CREATE INDEX talent_facts_approved ON talent_facts (approved_at);
CREATE INDEX goal_facts_at ON goal_facts (at);
