-- The language a challan's messages are written in, once it is known: the citizen used the
-- portal in that language for this challan (paid, asked for an appeal code, lodged an appeal),
-- or the officer asked at issue. One language per SMS costs a third to a half of both together
-- (Urdu travels as UCS-2, 70 characters a part); with no row, messages carry both languages.
-- The latest answer wins; each change is also in the event log (`challan.language`).
CREATE TABLE challan_languages (
    challan_number TEXT PRIMARY KEY REFERENCES challans (number),
    lang           TEXT NOT NULL CHECK (lang IN ('en', 'ur')),
    source         TEXT NOT NULL CHECK (source IN ('officer', 'portal')),
    recorded_at    BIGINT NOT NULL
);
