//! `GET /c/{number}/pay`: one question, how to pay; `POST` starts the attempt (the same
//! checkout as the JSON API) and shows one button that takes the payer to the rail with the
//! signed form.

use super::common::{challan_or_page, message_page, respond, see_other, ChallanData};
use crate::api::checkout;
use crate::i18n::{self, money, tr, trf, Lang};
use crate::pages::shell::{self, ltr, trf_html};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Form;
use efine_core::payment::Rail;
use efine_core::{ChallanNumber, Money};
use maud::{html, Markup};
use serde::Deserialize;

/// The methods this server offers: form value and translation key. Only configured rails.
fn configured(state: &AppState) -> Vec<(&'static str, &'static str)> {
    state
        .payments
        .hosted()
        .into_iter()
        .map(|r| match r {
            Rail::Jazzcash => ("jazzcash", "portal.method_jazzcash"),
            Rail::Easypaisa => ("easypaisa", "portal.method_easypaisa"),
            _ => ("card", "portal.method_card"),
        })
        .collect()
}

/// How an unpaid challan can be paid on this server, for the challan, pay and verification
/// pages. With a hosted rail configured: the "Pay now" button to the pay page (when `button`),
/// and the 1Bill line when banks can collect. With none: paying by PSID at a bank (1Bill), or,
/// when 1Bill is not configured either, at the issuing department's counter. A rail that is not
/// configured is never offered.
pub fn how_to_pay(state: &AppState, lang: Lang, number: &str, psid: &str, button: bool) -> Markup {
    let online = !state.payments.hosted().is_empty();
    let bank = state.payments.takes_1bill();
    html! {
        @if online {
            @if button {
                p { a class="button" id="pay" href={ "/c/" (number) "/pay" } { (tr(lang, "portal.pay_now")) } }
            }
            @if bank {
                p class="hint" { (trf_html(lang, "portal.onebill", &[("psid", ltr(psid))])) }
            }
        } @else if bank {
            div class="box" id="pay-by-psid" {
                p class="big" { (tr(lang, "payways.bank_only_title")) }
                p { (trf_html(lang, "payways.bank_only", &[("psid", ltr(psid))])) }
            }
        } @else {
            div class="box" id="pay-at-counter" {
                p class="big" { (tr(lang, "payways.counter_only_title")) }
                p { (trf_html(lang, "payways.counter_only", &[("number", ltr(number))])) }
            }
        }
    }
}

/// The "Pay now" button alone (pages that already say how much and why).
pub fn how_to_pay_link(lang: Lang, number: &str) -> Markup {
    html! {
        p { a class="button" href={ "/c/" (number) "/pay" } { (tr(lang, "portal.pay_now")) } }
    }
}

fn pay_question(state: &AppState, lang: Lang, d: &ChallanData, error: Option<&str>) -> Markup {
    let v = &d.view;
    let amount = money(lang, Money::from_paisa(v.amount_due).unwrap_or(Money::ZERO));
    let methods = configured(state);
    html! {
        p id="paying-for" {
            (tr(lang, "portal.challan")) " " (ltr(&v.challan_number)) ": "
            (lang.pick(&v.offence_name_en, &v.offence_name_ur))
            @if let Some(veh) = &v.vehicle_number { " (" (ltr(veh)) ")" }
        }
        p class="big" { (trf(lang, "portal.pay_amount", &[("amount", &amount)])) }
        @if let Some(e) = error {
            p class="bad" role="alert" { (e) }
        }
        @if methods.is_empty() {
            // Nothing to choose: say how to pay instead of a form with no choices.
            (how_to_pay(state, lang, &v.challan_number, &v.psid, false))
        } @else {
            form method="post" action={ "/c/" (v.challan_number) "/pay" } {
                fieldset class="box" {
                    legend { (tr(lang, "portal.how_to_pay")) }
                    @for (i, (code, key)) in methods.iter().enumerate() {
                        p {
                            input type="radio" name="method" id={ "m-" (code) } value=(code)
                                required[i == 0] class="auto";
                            " "
                            label for={ "m-" (code) } class="inline" { (tr(lang, key)) }
                        }
                    }
                }
                p { button type="submit" { (tr(lang, "portal.continue")) } }
            }
            (how_to_pay(state, lang, &v.challan_number, &v.psid, false))
        }
        (raast_block(state, lang, d))
    }
}

/// Raast: the item's dynamic QR, for any bank app; nothing to choose or submit here. The page
/// is reloaded by the payer to see the payment confirmed (the biller's bank tells us in seconds).
fn raast_block(state: &AppState, lang: Lang, d: &ChallanData) -> Markup {
    let v = &d.view;
    let Ok(psid) = efine_core::Psid::parse(&v.psid) else {
        return html! {};
    };
    let (Ok(now), Ok(after)) = (
        Money::from_paisa(v.amount_due),
        Money::from_paisa(v.amount_after_due_date),
    ) else {
        return html! {};
    };
    let Some(payload) = efine_service::raast::qr_payload(
        &state.ctx,
        &psid,
        &v.challan_number,
        now,
        Some((d.due_date, after)),
    ) else {
        return html! {};
    };
    html! {
        section class="box" id="raast" {
            h2 { (tr(lang, "portal.raast_title")) }
            p { (tr(lang, "portal.raast_body")) }
            div { (super::challan::qr_svg(&payload, tr(lang, "portal.raast_qr_alt"))) }
            p class="hint" {
                (tr(lang, "portal.raast_payload")) " "
                code id="raast-payload" dir="ltr" { (payload) }
            }
        }
    }
}

/// `GET /c/{number}/pay`: the one question, how to pay.
pub async fn pay_get(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Path(number): Path<String>,
) -> Response {
    let here = i18n::here(&uri);
    let d = match challan_or_page(&state, lang, &here, &number).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    if d.view.status != "unpaid" {
        return see_other(&format!("/c/{}", d.view.challan_number));
    }
    respond(
        StatusCode::OK,
        shell::page(
            lang,
            &here,
            tr(lang, "portal.how_to_pay"),
            pay_question(&state, lang, &d, None),
        ),
    )
}

#[derive(Deserialize)]
pub struct PayForm {
    #[serde(default)]
    method: String,
}

/// `POST /c/{number}/pay`: starts the attempt and shows the button that takes the payer to
/// the rail with the signed form.
pub async fn pay_post(
    State(state): State<AppState>,
    lang: Lang,
    Path(number): Path<String>,
    Form(f): Form<PayForm>,
) -> Response {
    let here = format!("/c/{number}/pay");
    let d = match challan_or_page(&state, lang, &here, &number).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let methods = configured(&state);
    if !methods.iter().any(|(c, _)| *c == f.method) {
        // With nothing to choose from, the page says how to pay; there is no choice to ask for.
        let error = (!methods.is_empty()).then(|| tr(lang, "portal.choose_method"));
        return respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            shell::page(
                lang,
                &here,
                tr(lang, "portal.how_to_pay"),
                pay_question(&state, lang, &d, error),
            ),
        );
    }
    let Ok(n) = ChallanNumber::parse(&number) else {
        return see_other("/");
    };
    super::common::remember_language(&state, &n, lang).await;
    let co = match checkout::start(&state, n, &f.method, Some(lang)).await {
        Ok(co) => co,
        Err(e) if e.status == StatusCode::CONFLICT => {
            return message_page(
                lang,
                StatusCode::CONFLICT,
                &format!("/c/{}", d.view.challan_number),
                tr(lang, "portal.cannot_pay"),
                &e.message,
            )
        }
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            let wait = std::time::Duration::from_secs(e.retry_after.unwrap_or(60));
            return crate::ratelimit::too_many(wait, Some(lang));
        }
        Err(e) => return e.into_response(),
    };
    let rail = match f.method.as_str() {
        "jazzcash" => "JazzCash",
        "easypaisa" => "Easypaisa",
        _ => tr(lang, "portal.method_card"),
    };
    let amount = money(lang, Money::from_paisa(co.amount).unwrap_or(Money::ZERO));
    let go = trf(lang, "portal.go_to", &[("rail", rail)]);
    let body = html! {
        p { (trf(lang, "portal.go_to_body", &[("amount", &amount), ("rail", rail)])) }
        @if co.http_method == "GET" {
            p { a class="button" id="go" href=(co.gateway_url) { (go) } }
        } @else {
            form method="post" action=(co.gateway_url) {
                @for (k, v) in &co.fields {
                    input type="hidden" name=(k) value=(v);
                }
                p { button type="submit" id="go" { (go) } }
            }
        }
    };
    respond(
        StatusCode::OK,
        shell::page(lang, &format!("/c/{}", d.view.challan_number), &go, body),
    )
}
