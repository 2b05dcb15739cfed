//! Issuing at the desk (officers): the form, and the same store call as the API. A random key
//! in the form makes a double submission issue one challan.

use super::parts::{blank, offences_for, see_other, select};
use super::session::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, money, tr};
use crate::views::IssueChallanRequest;
use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use efine_core::auth::Action;
use efine_core::catalogue::Offence;
use efine_store::ops::challans;
use efine_store::ops::idempotency::{self, Processing, Scope};
use efine_store::{IdempotencyKey, SavedResponse};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/staff/challans/new", get(new_get).post(new_post))
}

#[derive(Deserialize, Default)]
pub struct DeskIssue {
    #[serde(default)]
    offence_code: String,
    vehicle_number: Option<String>,
    cnic: Option<String>,
    mobile: Option<String>,
    name: Option<String>,
    location: Option<String>,
    notes: Option<String>,
    /// A random value put in the form when it was shown: submitting the same form twice
    /// issues one challan (the idempotency key).
    #[serde(default)]
    key: String,
}

fn issue_form(
    s: &ConsoleSession,
    offences: &[Offence],
    key: &str,
    values: &DeskIssue,
    error: Option<&str>,
) -> Markup {
    let l = s.lang;
    let opts: Vec<(String, String)> = offences
        .iter()
        .map(|o| {
            (
                o.code.to_string(),
                format!(
                    "{} ({})",
                    l.pick(&o.name_en, &o.name_ur),
                    money(l, o.amount)
                ),
            )
        })
        .collect();
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        @if let Some(e) = error {
            p.bad role="alert" id="form-error" { (e) }
        }
        form method="post" action="/staff/challans/new" {
            (s.csrf_field())
            input type="hidden" name="key" value=(key);
            (select("offence_code", tr(l, "portal.offence"), Some(values.offence_code.as_str()), &opts, ""))
            label for="vehicle_number" { (tr(l, "portal.vehicle")) }
            input id="vehicle_number" name="vehicle_number" dir="ltr" autocomplete="off" value=(value(&values.vehicle_number));
            label for="cnic" { (tr(l, "console.cnic")) }
            input id="cnic" name="cnic" dir="ltr" inputmode="numeric" autocomplete="off" value=(value(&values.cnic));
            label for="mobile" { (tr(l, "console.mobile")) }
            input id="mobile" name="mobile" dir="ltr" inputmode="tel" autocomplete="off" value=(value(&values.mobile));
            label for="name" { (tr(l, "portal.name")) }
            input id="name" name="name" autocomplete="off" value=(value(&values.name));
            label for="location" { (tr(l, "console.location")) }
            input id="location" name="location" value=(value(&values.location));
            label for="notes" { (tr(l, "console.notes")) }
            textarea id="notes" name="notes" rows="3" { (value(&values.notes)) }
            p.hint { (tr(l, "console.issue_hint")) }
            p { button type="submit" { (tr(l, "staff.issue")) } }
        }
    }
}

/// `GET /staff/challans/new`: the desk form (officers).
pub async fn new_get(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(Action::IssueChallan) {
        return r;
    }
    let offences = match offences_for(&state, s.principal.department.clone()).await {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let (key, _) = efine_store::ops::users::new_token();
    let body = issue_form(&s, &offences, &key, &DeskIssue::default(), None);
    s.page(&i18n::here(&uri), tr(s.lang, "staff.issue"), body)
}

/// `POST /staff/challans/new`: issues through the same store call as the API; a resubmitted
/// form (same key) shows the challan it issued the first time.
pub async fn new_post(State(state): State<AppState>, f: ConsoleForm<DeskIssue>) -> Response {
    let s = f.session;
    let form = f.form;
    if let Err(r) = s.require(Action::IssueChallan) {
        return r;
    }
    let officer = s.principal.clone();
    let blank = |v: &Option<String>| blank(v);
    let req = IssueChallanRequest {
        offence_code: form.offence_code.trim().to_string(),
        district: None,
        department: None,
        vehicle_number: blank(&form.vehicle_number),
        vehicle_authority: None,
        cnic: blank(&form.cnic),
        mobile: blank(&form.mobile),
        name: blank(&form.name),
        location: blank(&form.location).map(|t| crate::views::LocationInput {
            lat: None,
            lon: None,
            text: Some(t),
        }),
        notes: blank(&form.notes),
    };
    let valid_key = !form.key.is_empty()
        && form.key.len() <= 128
        && form.key.bytes().all(|b| b.is_ascii_alphanumeric());
    let idem = valid_key.then(|| IdempotencyKey {
        key: form.key.clone(),
        request_hash: idempotency::fields_hash(&[
            Some(req.offence_code.as_str()),
            req.vehicle_number.as_deref(),
            req.cnic.as_deref(),
            req.mobile.as_deref(),
            req.name.as_deref(),
            blank(&form.location).as_deref(),
            req.notes.as_deref(),
        ]),
    });
    let rerender = |s: &ConsoleSession, msg: &str, offences: Vec<_>| {
        s.status_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/staff/challans/new",
            tr(s.lang, "staff.issue"),
            issue_form(s, &offences, &form.key, &form, Some(msg)),
        )
    };
    let new = match req.into_new(&officer) {
        Ok(n) => n,
        Err(e) => {
            let offences = offences_for(&state, s.principal.department.clone())
                .await
                .unwrap_or_default();
            let msg = match &e.field {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message.clone(),
            };
            return rerender(&s, &msg, offences);
        }
    };
    let now = state.store.now();
    // One write: the challan this form issued before, or a new one saved against the form's key.
    let outcome = state
        .store
        .write(move |tx| {
            let scope = Scope::console(officer.user_id);
            if let Some(k) = &idem {
                if let Processing::Replay(saved) = idempotency::try_processing(tx, &scope, k)? {
                    return Ok(saved.body);
                }
            }
            let number = challans::issue(tx, &officer, &new, now)?.number.to_string();
            if let Some(k) = &idem {
                let saved = SavedResponse {
                    status: 201,
                    body: number.clone(),
                };
                idempotency::save_response(tx, &scope, k, &saved, now)?;
            }
            Ok(number)
        })
        .await;
    let number = match outcome {
        Ok(number) => number,
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return e.into_response();
            }
            let offences = offences_for(&state, s.principal.department.clone())
                .await
                .unwrap_or_default();
            return rerender(&s, &e.message, offences);
        }
    };
    see_other(&format!("/staff/challans/{number}"))
}
