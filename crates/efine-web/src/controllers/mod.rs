//! One file per resource; handlers parse, call one store function, render.

pub mod auth;
pub mod catalogue;
pub mod challans;
pub mod documents;
pub mod health;
pub mod public;
pub mod verify;
