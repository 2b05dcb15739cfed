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
use efine_core::{ChallanNumber, Money};
use maud::{html, Markup};
use serde::Deserialize;

/// The methods this server offers: form value and translation key.
fn configured(state: &AppState) -> Vec<(&'static str, &'static str)> {
    let mut m = Vec::new();
    if state.payments.jazzcash.is_some() {
        m.push(("jazzcash", "portal.method_jazzcash"));
    }
    if state.payments.easypaisa.is_some() {
        m.push(("easypaisa", "portal.method_easypaisa"));
    }
    if state.payments.card.is_some() {
        m.push(("card", "portal.method_card"));
    }
    m
}

fn pay_question(state: &AppState, lang: Lang, d: &ChallanData, error: Option<&str>) -> Markup {
    let v = &d.view;
    let amount = money(lang, Money::from_paisa(v.amount_due).unwrap_or(Money::ZERO));
    html! {
        p class="big" { (trf(lang, "portal.pay_amount", &[("amount", &amount)])) }
        @if let Some(e) = error {
            p class="bad" role="alert" { (e) }
        }
        form method="post" action={ "/c/" (v.challan_number) "/pay" } {
            fieldset class="box" {
                legend { (tr(lang, "portal.how_to_pay")) }
                @for (i, (code, key)) in configured(state).iter().enumerate() {
                    p {
                        input type="radio" name="method" id={ "m-" (code) } value=(code)
                            required[i == 0] style="width:auto";
                        " "
                        label for={ "m-" (code) } style="display:inline" { (tr(lang, key)) }
                    }
                }
            }
            p { button type="submit" { (tr(lang, "portal.continue")) } }
        }
        (raast_block(state, lang, d))
        p class="hint" { (trf_html(lang, "portal.onebill", &[("psid", ltr(&v.psid))])) }
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
    if !configured(&state).iter().any(|(c, _)| *c == f.method) {
        return respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            shell::page(
                lang,
                &here,
                tr(lang, "portal.how_to_pay"),
                pay_question(&state, lang, &d, Some(tr(lang, "portal.choose_method"))),
            ),
        );
    }
    let Ok(n) = ChallanNumber::parse(&number) else {
        return see_other("/");
    };
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
