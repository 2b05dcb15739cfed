-- Fees a citizen starts: the public service catalogue and the vouchers citizens ask for.

-- Each change to a service is a new version; a voucher points at the version it was made under.
-- `definition` is the service as efine_core::fees::Service (JSON): names, applicant fields,
-- validity, legal reference and its choices, each naming a fee of the department's schedule
-- (whose amount, itself versioned, the voucher charges).
CREATE TABLE fee_services (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    department     TEXT NOT NULL REFERENCES departments (code),
    code           TEXT NOT NULL,
    version        BIGINT NOT NULL,
    definition     TEXT NOT NULL,
    active         BIGINT NOT NULL DEFAULT 1,
    effective_from BIGINT NOT NULL,
    changed_by     TEXT NOT NULL,
    UNIQUE (department, code, version)
);

-- A voucher is a challan of kind 'fee' (the payable item: number, PSID, amount, receipt); this
-- row adds what the citizen asked for and whether the department has used it. The challan's
-- due date is the last day of its validity.
CREATE TABLE fee_vouchers (
    challan_number  TEXT PRIMARY KEY REFERENCES challans (number),
    department      TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    service_version BIGINT NOT NULL,
    choice          TEXT NOT NULL,
    business_name   TEXT,
    channel         TEXT NOT NULL,          -- portal or api
    created_at      BIGINT NOT NULL,
    consumed_at     BIGINT,
    consumed_by     TEXT
);
CREATE INDEX fee_vouchers_service ON fee_vouchers (department, service_code, created_at);
CREATE TRIGGER fee_vouchers_no_delete BEFORE DELETE ON fee_vouchers
    FOR EACH ROW EXECUTE FUNCTION efine_refuse_change();

-- Open vouchers are counted per CNIC and per mobile on every request for a new one.
CREATE INDEX challans_mobile ON challans (mobile) WHERE mobile IS NOT NULL;
