-- Statistics: aggregates kept up to date in the same transaction as the issuance or payment they
-- count (ops/stats.rs), so the summary, dashboard and transparency figures read a few thousand
-- rows, never the challans table. They are projections of the event log: rebuilt from it if ever
-- in doubt, and never a source of truth.

-- One row per dimension value, department, district and local issue date. `dim` is one of
-- district, department, offence, officer; `key` is that dimension's code (the officer's
-- username). Payments count against the challan's issue date, so `paid / issued` is compliance
-- for the challans issued in a date range.
CREATE TABLE stats_daily (
    dim             TEXT NOT NULL,
    key             TEXT NOT NULL,
    department      TEXT NOT NULL,
    district        TEXT NOT NULL,
    day             TEXT NOT NULL,
    issued          BIGINT NOT NULL DEFAULT 0,
    amount_issued   BIGINT NOT NULL DEFAULT 0,   -- paisa, face amounts
    paid            BIGINT NOT NULL DEFAULT 0,
    paid_face       BIGINT NOT NULL DEFAULT 0,   -- paisa, face amounts of the paid challans
    collected       BIGINT NOT NULL DEFAULT 0,   -- paisa, what was actually paid
    cancelled       BIGINT NOT NULL DEFAULT 0,
    cancelled_face  BIGINT NOT NULL DEFAULT 0,
    off_hours       BIGINT NOT NULL DEFAULT 0,   -- issued 22:00-06:00 local time
    repeat_plate    BIGINT NOT NULL DEFAULT 0,   -- same plate, same officer, same day
    paid_cash       BIGINT NOT NULL DEFAULT 0,   -- paid at a counter in cash
    cancel_requests BIGINT NOT NULL DEFAULT 0,
    reductions      BIGINT NOT NULL DEFAULT 0,
    -- Day before key: a date range is one contiguous stretch of the table.
    PRIMARY KEY (dim, day, key, department, district)
);

-- The same figures per local calendar month ('YYYY-MM'), bumped with the daily rows: a summary
-- over whole months (or all time) reads at most twelve rows a year per group, whatever the
-- number of challans; only the partial months at the ends of a range come from stats_daily.
CREATE TABLE stats_monthly (
    dim             TEXT NOT NULL,
    key             TEXT NOT NULL,
    department      TEXT NOT NULL,
    district        TEXT NOT NULL,
    month           TEXT NOT NULL,
    issued          BIGINT NOT NULL DEFAULT 0,
    amount_issued   BIGINT NOT NULL DEFAULT 0,
    paid            BIGINT NOT NULL DEFAULT 0,
    paid_face       BIGINT NOT NULL DEFAULT 0,
    collected       BIGINT NOT NULL DEFAULT 0,
    cancelled       BIGINT NOT NULL DEFAULT 0,
    cancelled_face  BIGINT NOT NULL DEFAULT 0,
    off_hours       BIGINT NOT NULL DEFAULT 0,
    repeat_plate    BIGINT NOT NULL DEFAULT 0,
    paid_cash       BIGINT NOT NULL DEFAULT 0,
    cancel_requests BIGINT NOT NULL DEFAULT 0,
    reductions      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, key, department, district, month)
);

-- Money received, by local payment date and rail: trends, rails and the forecast.
CREATE TABLE stats_collections (
    day        TEXT NOT NULL,
    department TEXT NOT NULL,
    district   TEXT NOT NULL,
    rail       TEXT NOT NULL,
    payments   BIGINT NOT NULL DEFAULT 0,
    amount     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, department, district, rail)
);

-- Challans per location cell (0.01 degree, about a kilometre) for the hotspot grid.
CREATE TABLE stats_cells (
    department TEXT NOT NULL,
    district   TEXT NOT NULL,
    lat_cell   BIGINT NOT NULL,
    lon_cell   BIGINT NOT NULL,
    issued     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (department, district, lat_cell, lon_cell)
);
