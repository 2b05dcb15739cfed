//! The second factor in the console: `/staff/security` shows a new secret as a QR code for an
//! authenticator app (RFC 6238 `otpauth://` URI) and asks for one code from it; the right code
//! stores the secret and shows ten one-time recovery codes, once (only their hashes are kept).
//! Roles that need a second factor are sent here after their first sign-in and can use nothing
//! else until they have enrolled. An enrolled account cannot enrol again from a session (a
//! stolen session must not be able to move the second factor to another phone).

use super::session::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::tr;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use efine_core::auth::totp::{self, TotpSecret};
use efine_store::ops::users;
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/security", get(page))
        .route("/staff/security/totp", post(enrol))
}

/// The issuer name authenticator apps show beside the account.
const ISSUER: &str = "E-Fine";

fn new_secret() -> TotpSecret {
    use rand::RngCore;
    let mut b = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut b);
    TotpSecret::from_bytes(b)
}

fn enrol_form(s: &ConsoleSession, secret: &TotpSecret, error: Option<&str>) -> Markup {
    let l = s.lang;
    let uri = secret.uri(ISSUER, &s.principal.username);
    html! {
        @if s.must_enrol { p.bad role="status" { (tr(l, "security.must_enrol")) } }
        p { (tr(l, "security.scan")) }
        div id="totp-qr" { (crate::pages::portal::challan::qr_svg(&uri, tr(l, "security.qr_label"))) }
        p { (tr(l, "security.manual")) " " code id="totp-secret" dir="ltr" { (secret.base32()) } }
        @if let Some(e) = error { p.bad role="alert" id="form-error" { (e) } }
        form method="post" action="/staff/security/totp" class="box" {
            (s.csrf_field())
            input type="hidden" name="secret" value=(secret.base32());
            label for="code" { (tr(l, "security.code")) }
            input id="code" name="code" required inputmode="numeric" autocomplete="one-time-code" maxlength="8" dir="ltr";
            p { button type="submit" { (tr(l, "security.enrol")) } }
        }
    }
}

/// `GET /staff/security`
pub async fn page(s: ConsoleSession) -> Response {
    let l = s.lang;
    let body = if s.must_enrol {
        enrol_form(&s, &new_secret(), None)
    } else if s.principal.role.needs_second_factor() {
        html! { p id="totp-status" { (tr(l, "security.enrolled")) } }
    } else {
        html! { p id="totp-status" { (tr(l, "security.not_needed")) } }
    };
    s.page("/staff/security", tr(l, "security.title"), body)
}

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
}

/// `POST /staff/security/totp`: checks one code against the shown secret, stores it, and shows
/// the recovery codes once.
pub async fn enrol(State(state): State<AppState>, f: ConsoleForm<EnrolForm>) -> Response {
    let s = f.session;
    let l = s.lang;
    if !s.must_enrol {
        return s.status_page(
            StatusCode::CONFLICT,
            "/staff/security",
            tr(l, "security.title"),
            html! { p.bad { (tr(l, "security.already")) } },
        );
    }
    let Some(secret) = TotpSecret::parse_base32(&f.form.secret) else {
        return s.status_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/staff/security",
            tr(l, "security.title"),
            enrol_form(&s, &new_secret(), Some(tr(l, "security.wrong_code"))),
        );
    };
    let now = state.store.now();
    let Some(step) = secret.verify(&f.form.code, now.unix_timestamp()) else {
        return s.status_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/staff/security",
            tr(l, "security.title"),
            enrol_form(&s, &secret, Some(tr(l, "security.wrong_code"))),
        );
    };
    let codes: Vec<String> = (0..totp::RECOVERY_CODES)
        .map(|_| {
            let mut b = [0u8; 15];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
            totp::recovery_code(b)
        })
        .collect();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_code_hash(c)).collect();
    let p = s.principal.clone();
    let b32 = secret.base32();
    if let Err(e) = state
        .store
        .write(move |tx| {
            users::enrol_totp(tx, &p, &b32, &hashes, now)?;
            // The code just shown counts as used: it cannot sign in again.
            users::accept_totp_step(tx, &p, step).map(|_| ())
        })
        .await
    {
        return ApiError::from(e).into_response();
    }
    s.page(
        "/staff/security",
        tr(l, "security.title"),
        html! {
            p id="totp-status" { (tr(l, "security.done")) }
            p { (tr(l, "security.recovery_intro")) }
            ol id="recovery-codes" dir="ltr" { @for c in &codes { li { code { (c) } } } }
            p { a href="/staff" { (tr(l, "staff.console")) } }
        },
    )
}
