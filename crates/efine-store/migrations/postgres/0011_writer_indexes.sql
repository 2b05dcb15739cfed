-- What the writer and the escalation run look up, on indexes whose cost does not grow with the
-- number of challans.

-- The repeated-plate check on issue (same plate, same officer, since the local day began) reads
-- exactly the plate's rows for that officer from this index, whatever the planner's statistics
-- say; it also serves lookups by vehicle, so the plate-only index goes.
CREATE INDEX challans_plate_officer ON challans (vehicle, officer, issued_at) WHERE vehicle IS NOT NULL;
DROP INDEX challans_vehicle;

-- The same index as challans_unpaid_due (migration 0004).
DROP INDEX challans_unpaid;

-- The local day on which the escalation run next has something to record for the challan (its
-- surcharge or a stage), NULL when nothing can become due (paid, cancelled, under appeal, every
-- step recorded): efine_core::challan::Challan::next_step_on, kept on every change of status or
-- terms. A run reads only the rows due, through this partial index.
ALTER TABLE challans ADD COLUMN next_step_on TEXT;
-- Rows from before: visited once from their due date, when the run sets the exact day.
UPDATE challans SET next_step_on = due_date WHERE status = 'unpaid' AND paused_since IS NULL;
CREATE INDEX challans_next_step ON challans (next_step_on) WHERE next_step_on IS NOT NULL;
