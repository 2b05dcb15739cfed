//! Migrations, one numbered SQL file per change and per backend, with matching names.

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_foundation",
        sql: include_str!("../migrations/sqlite/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "0002_payments",
        sql: include_str!("../migrations/sqlite/0002_payments.sql"),
    },
    Migration {
        version: 3,
        name: "0003_enforcement",
        sql: include_str!("../migrations/sqlite/0003_enforcement.sql"),
    },
    Migration {
        version: 4,
        name: "0004_notifications",
        sql: include_str!("../migrations/sqlite/0004_notifications.sql"),
    },
    Migration {
        version: 5,
        name: "0005_stats",
        sql: include_str!("../migrations/sqlite/0005_stats.sql"),
    },
    Migration {
        version: 6,
        name: "0006_console",
        sql: include_str!("../migrations/sqlite/0006_console.sql"),
    },
    Migration {
        version: 7,
        name: "0007_accounts",
        sql: include_str!("../migrations/sqlite/0007_accounts.sql"),
    },
    Migration {
        version: 8,
        name: "0008_keys_heads_appeal_codes",
        sql: include_str!("../migrations/sqlite/0008_keys_heads_appeal_codes.sql"),
    },
    Migration {
        version: 11,
        name: "0011_writer_indexes",
        sql: include_str!("../migrations/sqlite/0011_writer_indexes.sql"),
    },
    Migration {
        version: 12,
        name: "0012_devices",
        sql: include_str!("../migrations/sqlite/0012_devices.sql"),
    },
    Migration {
        version: 13,
        name: "0013_message_language",
        sql: include_str!("../migrations/sqlite/0013_message_language.sql"),
    },
    Migration {
        version: 14,
        name: "0014_console",
        sql: include_str!("../migrations/sqlite/0014_console.sql"),
    },
    Migration {
        version: 15,
        name: "0015_fee_services",
        sql: include_str!("../migrations/sqlite/0015_fee_services.sql"),
    },
    Migration {
        version: 17,
        name: "0017_imports",
        sql: include_str!("../migrations/sqlite/0017_imports.sql"),
    },
    Migration {
        version: 18,
        name: "0018_totp_last_step",
        sql: include_str!("../migrations/sqlite/0018_totp_last_step.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_foundation",
        sql: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "0002_payments",
        sql: include_str!("../migrations/postgres/0002_payments.sql"),
    },
    Migration {
        version: 3,
        name: "0003_enforcement",
        sql: include_str!("../migrations/postgres/0003_enforcement.sql"),
    },
    Migration {
        version: 4,
        name: "0004_notifications",
        sql: include_str!("../migrations/postgres/0004_notifications.sql"),
    },
    Migration {
        version: 5,
        name: "0005_stats",
        sql: include_str!("../migrations/postgres/0005_stats.sql"),
    },
    Migration {
        version: 6,
        name: "0006_console",
        sql: include_str!("../migrations/postgres/0006_console.sql"),
    },
    Migration {
        version: 7,
        name: "0007_accounts",
        sql: include_str!("../migrations/postgres/0007_accounts.sql"),
    },
    Migration {
        version: 8,
        name: "0008_keys_heads_appeal_codes",
        sql: include_str!("../migrations/postgres/0008_keys_heads_appeal_codes.sql"),
    },
    Migration {
        version: 11,
        name: "0011_writer_indexes",
        sql: include_str!("../migrations/postgres/0011_writer_indexes.sql"),
    },
    Migration {
        version: 12,
        name: "0012_devices",
        sql: include_str!("../migrations/postgres/0012_devices.sql"),
    },
    Migration {
        version: 13,
        name: "0013_message_language",
        sql: include_str!("../migrations/postgres/0013_message_language.sql"),
    },
    Migration {
        version: 14,
        name: "0014_console",
        sql: include_str!("../migrations/postgres/0014_console.sql"),
    },
    Migration {
        version: 15,
        name: "0015_fee_services",
        sql: include_str!("../migrations/postgres/0015_fee_services.sql"),
    },
    Migration {
        version: 17,
        name: "0017_imports",
        sql: include_str!("../migrations/postgres/0017_imports.sql"),
    },
    Migration {
        version: 18,
        name: "0018_totp_last_step",
        sql: include_str!("../migrations/postgres/0018_totp_last_step.sql"),
    },
];
