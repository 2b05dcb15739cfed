//! A record's event history for people: each event as a sentence in the reader's language
//! ("Issued by officer X", "Paid Rs 2,000 by JazzCash, receipt R-..."), at its time in Pakistan
//! time, with the raw stored event (kind, actor, payload, hashes) on demand in a `<details>`.
//!
//! The sentences are read from the stored payloads as they are (see "Event kinds" in
//! docs/architecture.md); a kind without a sentence of its own falls back to its name and actor,
//! so a new kind is still listed.

use super::checkpoint::stage_label;
use super::parts::{ident, pk_time};
use crate::i18n::{self, money, tr, trf, Lang};
use efine_core::audit::EventRecord;
use efine_core::clock::from_micros;
use efine_core::penalty::Stage;
use efine_core::Money;
use maud::{html, Markup};
use serde_json::Value;

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn paisa(l: Lang, v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_i64)
        .and_then(|p| Money::from_paisa(p).ok())
        .map(|m| money(l, m))
        .unwrap_or_default()
}

fn day(l: Lang, v: &Value, key: &str) -> String {
    let s = text(v, key);
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map(|d| i18n::date(l, d))
        .unwrap_or_else(|_| s.to_string())
}

fn rail(v: &Value) -> &'static str {
    efine_core::payment::Rail::parse(text(v, "rail"))
        .map(|r| r.label())
        .unwrap_or("")
}

/// One event as a sentence in the reader's language.
pub(super) fn sentence(l: Lang, e: &EventRecord) -> String {
    let p: Value = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
    let actor = e.actor.as_str();
    match e.kind.as_str() {
        "challan.issued" => trf(l, "history.issued", &[("actor", actor)]),
        "challan.surcharged" => trf(
            l,
            "history.surcharged",
            &[
                ("date", &day(l, &p, "surcharge_from")),
                ("amount", &paisa(l, &p, "amount_due")),
            ],
        ),
        "challan.escalated" => {
            let stage = Stage::parse(text(&p, "stage"))
                .map(|s| stage_label(l, s))
                .unwrap_or("");
            trf(
                l,
                "history.escalated",
                &[("stage", stage), ("date", &day(l, &p, "reached_on"))],
            )
        }
        "challan.paid" => trf(
            l,
            "history.paid",
            &[
                ("amount", &paisa(l, &p, "amount")),
                ("rail", rail(&p)),
                ("receipt", text(&p, "receipt")),
            ],
        ),
        "challan.cancelled" => trf(l, "history.cancelled", &[("reason", text(&p, "reason"))]),
        "cancellation.requested" => trf(
            l,
            "history.cancel_requested",
            &[("actor", actor), ("reason", text(&p, "reason"))],
        ),
        "cancellation.approved" => trf(
            l,
            "history.cancel_approved",
            &[("actor", actor), ("by", text(&p, "requested_by"))],
        ),
        "cancellation.rejected" => trf(
            l,
            "history.cancel_rejected",
            &[("actor", actor), ("by", text(&p, "requested_by"))],
        ),
        "appeal.lodged" => trf(
            l,
            "history.appeal_lodged",
            &[("reason", text(&p, "reason"))],
        ),
        "appeal.decided" => match text(&p, "outcome") {
            "uphold" => trf(l, "history.appeal_upheld", &[("actor", actor)]),
            "reduce" => trf(
                l,
                "history.appeal_reduced",
                &[
                    ("actor", actor),
                    ("amount", &paisa(l, &p, "reduced_amount")),
                ],
            ),
            _ => trf(l, "history.appeal_quashed", &[("actor", actor)]),
        },
        "appeal.closed" => trf(
            l,
            "history.appeal_closed",
            &[("reason", text(&p, "reason"))],
        ),
        other => trf(l, "history.other", &[("kind", other), ("actor", actor)]),
    }
}

/// The history as a list: time, sentence, and the raw event on demand.
pub(super) fn list(l: Lang, events: &[EventRecord]) -> Markup {
    html! {
        ol.history id="events" {
            @for e in events {
                @let raw = serde_json::from_str::<Value>(&e.payload)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or_else(|| e.payload.clone());
                li id={ "event-" (e.seq) } {
                    strong { (pk_time(l, from_micros(e.at_micros))) } ": "
                    (sentence(l, e))
                    details {
                        summary { (tr(l, "history.raw")) }
                        p.hint {
                            "#" (e.seq) " · " (ident(&e.kind)) " · " (ident(&e.actor))
                        }
                        pre dir="ltr" { code { (raw) } }
                        p.hint { (tr(l, "history.hash")) " " (ident(&hex::encode(e.hash))) }
                    }
                }
            }
        }
    }
}
