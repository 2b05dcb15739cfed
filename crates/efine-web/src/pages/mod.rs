//! HTML pages (citizen portal, verification, staff console, dashboard): server-rendered, no JavaScript needed (but for the officer's field app at `/officer`, which must work offline), English and Urdu (`?lang=ur`, right to
//! left). Every page is a maud template on the shared [`shell`], so every value is escaped when
//! the page is built; each page family owns its routes.

pub mod assets;
pub mod console;
pub mod dashboard;
pub mod error_page;
pub mod officer;
pub mod portal;
pub mod receipt;
pub mod shell;
pub mod verify;
