//! `GET /`, `POST /search`, `POST /search/cnic`: finding a challan by its number or PSID, or
//! listing a vehicle's or a person's challans.

use super::common::{respond, see_other, status_label};
use crate::error::ApiError;
use crate::i18n::{self, money, tr, Lang};
use crate::pages::shell::{self, ltr};
use crate::views::{today, PublicChallanView};
use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Form;
use efine_core::{ChallanNumber, Cnic, MobileNumber, Money, Psid, VehicleNumber};
use efine_store::ops::challans;
use maud::{html, Markup};
use serde::Deserialize;
use std::net::IpAddr;

fn search_forms(lang: Lang, error: Option<&str>, typed: &str) -> Markup {
    html! {
        p { (tr(lang, "portal.intro")) }
        @if let Some(e) = error {
            p class="bad" role="alert" id="search-error" { (e) }
        }
        form method="post" action="/search" class="box" {
            label for="q" { (tr(lang, "portal.search_label")) }
            p class="hint" id="q-hint" {
                (tr(lang, "portal.search_hint")) " "
                (ltr("TRF-PSH-2026-004219 · 2601380000000013 · PES-1234"))
            }
            input id="q" name="q" required maxlength="64" autocomplete="off" dir="ltr"
                aria-describedby="q-hint" value=(typed);
            p { button type="submit" { (tr(lang, "portal.search")) } }
        }
        form method="post" action="/search/cnic" class="box" {
            h2 { (tr(lang, "portal.cnic_title")) }
            label for="cnic" { (tr(lang, "portal.cnic_label")) }
            p class="hint" id="cnic-hint" { (tr(lang, "portal.cnic_hint")) }
            input id="cnic" name="cnic" required maxlength="15" inputmode="numeric"
                autocomplete="off" dir="ltr" aria-describedby="cnic-hint";
            p { button type="submit" { (tr(lang, "portal.cnic_search")) } }
        }
        p class="hint" { (tr(lang, "portal.verify_hint")) }
        p { a href="/fees" id="fees-link" { (tr(lang, "fees.link")) } }
    }
}

/// `GET /`
pub async fn home(lang: Lang, uri: Uri) -> Response {
    respond(
        StatusCode::OK,
        shell::page(
            lang,
            &i18n::here(&uri),
            tr(lang, "portal.title"),
            search_forms(lang, None, ""),
        ),
    )
}

fn home_with_error(lang: Lang, status: StatusCode, error: &str) -> Response {
    home_keeping(lang, status, error, "")
}

/// The search page again with the error and what was typed, so it can be corrected.
fn home_keeping(lang: Lang, status: StatusCode, error: &str, typed: &str) -> Response {
    respond(
        status,
        shell::page(
            lang,
            "/",
            tr(lang, "portal.title"),
            search_forms(lang, Some(error), typed),
        ),
    )
}

/// What the main search box was given, recognised by its shape.
#[derive(Debug)]
enum Typed {
    Challan(ChallanNumber),
    Psid(Psid),
    Vehicle(VehicleNumber),
    /// A CNIC typed in the main box: listed like the CNIC form would (it was posted, never in
    /// a URL).
    Cnic(Cnic),
    /// A mobile number: challans are not looked up by mobile.
    Mobile,
    /// All digits, the length of a PSID, but the check digit does not match.
    PsidMistyped,
    /// All digits, but no identifier has this many.
    DigitsWrongLength(usize),
    Unknown,
}

fn recognise(q: &str) -> Typed {
    let digits_only = q
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    let bare: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits_only {
        // A CNIC is 13 digits and a mobile 11 (03...); a PSID is 16.
        if bare.len() == 13 {
            if let Ok(c) = Cnic::parse(q) {
                return Typed::Cnic(c);
            }
        }
        if bare.len() == 11 && bare.starts_with("03") && MobileNumber::parse(q).is_ok() {
            return Typed::Mobile;
        }
        return match Psid::parse(q) {
            Ok(p) => Typed::Psid(p),
            Err(_) if bare.len() == PSID_LEN => Typed::PsidMistyped,
            Err(_) => Typed::DigitsWrongLength(bare.len()),
        };
    }
    if q.starts_with('+') && MobileNumber::parse(q).is_ok() {
        return Typed::Mobile;
    }
    if let Ok(n) = ChallanNumber::parse(q) {
        return Typed::Challan(n);
    }
    match VehicleNumber::parse(q) {
        Ok(v) => Typed::Vehicle(v),
        Err(_) => Typed::Unknown,
    }
}

/// The PSID's length on this system (year, department, district, sequence, check digit).
const PSID_LEN: usize = 16;

#[derive(Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
}

#[derive(Deserialize)]
pub struct CnicForm {
    #[serde(default)]
    cnic: String,
}

/// `POST /search`
pub async fn search(
    State(state): State<AppState>,
    lang: Lang,
    axum::Extension(crate::ratelimit::ClientAddr(client)): axum::Extension<
        crate::ratelimit::ClientAddr,
    >,
    Form(f): Form<SearchForm>,
) -> Response {
    let q = f.q.trim().to_string();
    if q.is_empty() {
        return home_with_error(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr(lang, "portal.empty"),
        );
    }
    let refuse =
        |key: &'static str| home_keeping(lang, StatusCode::UNPROCESSABLE_ENTITY, tr(lang, key), &q);
    let key: Result<Result<ChallanNumber, Psid>, VehicleNumber> = match recognise(&q) {
        Typed::Challan(n) => Ok(Ok(n)),
        Typed::Psid(p) => Ok(Err(p)),
        Typed::Vehicle(v) => Err(v),
        Typed::Cnic(c) => return list(&state, lang, client, Err(c)).await,
        Typed::Mobile => return refuse("portal.mobile_typed"),
        Typed::PsidMistyped => return refuse("portal.psid_check_digit"),
        Typed::DigitsWrongLength(n) => {
            let msg = i18n::trf(
                lang,
                "portal.digits_length",
                &[("count", &i18n::digits(lang, &n.to_string()))],
            );
            return home_keeping(lang, StatusCode::UNPROCESSABLE_ENTITY, &msg, &q);
        }
        Typed::Unknown => return refuse("portal.not_understood"),
    };
    match key {
        Ok(k) => {
            let found = state
                .store
                .read(move |tx| {
                    let c = match &k {
                        Ok(n) => challans::by_number(tx, n)?,
                        Err(p) => challans::by_psid(tx, p)?,
                    };
                    Ok(c.map(|c| c.number.to_string()))
                })
                .await;
            match found {
                Ok(Some(n)) => see_other(&format!("/c/{n}")),
                Ok(None) => home_keeping(
                    lang,
                    StatusCode::NOT_FOUND,
                    tr(lang, "portal.not_found_body"),
                    &q,
                ),
                Err(e) => ApiError::from(e).into_response(),
            }
        }
        Err(v) => list(&state, lang, client, Ok(v)).await,
    }
}

/// `POST /search/cnic`
pub async fn search_cnic(
    State(state): State<AppState>,
    lang: Lang,
    axum::Extension(crate::ratelimit::ClientAddr(client)): axum::Extension<
        crate::ratelimit::ClientAddr,
    >,
    Form(f): Form<CnicForm>,
) -> Response {
    match Cnic::parse(f.cnic.trim()) {
        Ok(c) => list(&state, lang, client, Err(c)).await,
        Err(_) => home_with_error(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr(lang, "portal.cnic_invalid"),
        ),
    }
}

/// A vehicle's or a person's challans, with the total due today.
async fn list(
    state: &AppState,
    lang: Lang,
    client: IpAddr,
    by: Result<VehicleNumber, Cnic>,
) -> Response {
    if state.lookup_limiter.check(client).is_err() {
        return home_with_error(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "portal.too_many"),
        );
    }
    let found = state
        .store
        .read(move |tx| {
            let find = match by {
                Ok(v) => challans::Find::Vehicle(v),
                Err(c) => challans::Find::Cnic(c),
            };
            challans::detailed(tx, &find, 100)
        })
        .await;
    let found = match found {
        Ok(f) => f,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let day = today(state.store.now());
    let views: Vec<PublicChallanView> = found
        .into_iter()
        .map(|(c, n, paid)| PublicChallanView::new(c, n, paid, day))
        .collect();
    if views.is_empty() {
        return home_with_error(lang, StatusCode::OK, tr(lang, "portal.none_found"));
    }
    let total = views
        .iter()
        .filter(|v| v.status == "unpaid")
        .filter_map(|v| Money::from_paisa(v.amount_due).ok())
        .try_fold(Money::ZERO, |a, m| a.checked_add(m))
        .unwrap_or(Money::ZERO);
    let body = html! {
        p class="box" {
            (tr(lang, "portal.total_due")) ": "
            strong class="big" { (money(lang, total)) }
        }
        div class="scroll" {
            table {
                thead {
                    tr {
                        th scope="col" { (tr(lang, "portal.challan")) }
                        th scope="col" { (tr(lang, "portal.offence")) }
                        th scope="col" { (tr(lang, "portal.status")) }
                        th scope="col" { (tr(lang, "portal.amount_due_today")) }
                    }
                }
                tbody {
                    @for v in &views {
                        tr {
                            td { a href={ "/c/" (v.challan_number) } { (ltr(&v.challan_number)) } }
                            td { (lang.pick(&v.offence_name_en, &v.offence_name_ur)) }
                            td { (status_label(lang, &v.status)) }
                            td {
                                (money(lang, Money::from_paisa(v.amount_due).unwrap_or(Money::ZERO)))
                            }
                        }
                    }
                }
            }
        }
    };
    respond(
        StatusCode::OK,
        shell::page(lang, "/", tr(lang, "portal.results"), body),
    )
}
