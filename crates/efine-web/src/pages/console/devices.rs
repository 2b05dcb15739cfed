//! Officers' phones in the console (`/staff/devices`): make a one-time enrolment code for an
//! officer, see each device with its officer, last counter and last sync, revoke one, and the
//! anomalies of their challans (counter gaps, long delays between issue and sync). Admins see
//! every device; a department admin those of their department.

use super::parts::see_other;
use super::session::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, tr, trf};
use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use efine_core::auth::Role;
use efine_store::ops::devices::{self, Anomaly, Device};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/devices", get(page).post(create_code))
        .route("/staff/devices/revoke", post(revoke))
}

/// Whether the session's user manages devices at all.
pub fn may_manage(s: &ConsoleSession) -> bool {
    matches!(s.principal.role, Role::Admin | Role::DepartmentAdmin)
}

type Loaded = (Vec<Device>, Vec<Anomaly>);

async fn load(state: &AppState, s: &ConsoleSession) -> Result<Loaded, efine_store::StoreError> {
    let dep = match s.principal.role {
        Role::Admin => None,
        _ => s.principal.department.clone(),
    };
    state
        .store
        .read(move |tx| {
            let list = devices::all(tx)?
                .into_iter()
                .filter(|d| dep.as_ref().is_none_or(|x| x == &d.department))
                .collect();
            Ok((list, devices::anomalies(tx, dep.as_ref(), None)?))
        })
        .await
}

fn when(t: Option<time::OffsetDateTime>) -> String {
    t.map(|t| {
        t.to_offset(efine_core::clock::KARACHI)
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .unwrap_or_default()
    })
    .unwrap_or_else(|| "-".into())
}

fn body(
    s: &ConsoleSession,
    loaded: &Loaded,
    code: Option<(&str, &str)>,
    error: Option<&str>,
) -> Markup {
    let l = s.lang;
    let (list, anomalies) = loaded;
    html! {
        @if let Some(e) = error {
            p.error role="alert" { (e) }
        }
        @if let Some((officer, code)) = code {
            div.box id="enrolment-code" {
                p { (trf(l, "devices.code_for", &[("officer", officer)])) }
                p.big { span.num id="code" { (code) } }
                p.hint { (tr(l, "devices.code_hint")) }
            }
        }
        h2 { (tr(l, "devices.enrol")) }
        form method="post" action="/staff/devices" class="box" {
            (s.csrf_field())
            label for="officer" { (tr(l, "devices.officer")) }
            input id="officer" name="officer" dir="ltr" required maxlength="64" autocomplete="off";
            p { button type="submit" { (tr(l, "devices.make_code")) } }
        }
        h2 { (tr(l, "devices.list")) }
        div.scroll {
            table id="devices" {
                thead { tr {
                    th scope="col" { (tr(l, "devices.device")) }
                    th scope="col" { (tr(l, "devices.officer")) }
                    th scope="col" { (tr(l, "devices.enrolled")) }
                    th scope="col" { (tr(l, "devices.last_counter")) }
                    th scope="col" { (tr(l, "devices.last_sync")) }
                    th scope="col" { (tr(l, "devices.state")) }
                } }
                tbody {
                    @for d in list {
                        tr {
                            td { span.num { (d.id) } }
                            td { (d.officer) }
                            td { span.num { (when(Some(d.valid_from))) } }
                            td { span.num { (d.last_counter) } }
                            td { span.num { (when(d.last_sync_at)) } }
                            td {
                                @if let Some(r) = d.revoked_at {
                                    (tr(l, "devices.revoked")) " " span.num { (when(Some(r))) }
                                } @else {
                                    form.inline method="post" action="/staff/devices/revoke" {
                                        (s.csrf_field())
                                        input type="hidden" name="device" value=(d.id);
                                        button.secondary.compact type="submit" { (tr(l, "devices.revoke")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (tr(l, "devices.anomalies")) }
        @if anomalies.is_empty() {
            p id="no-anomalies" { (tr(l, "devices.no_anomalies")) }
        } @else {
            ul id="anomalies" {
                @for a in anomalies {
                    @match a {
                        Anomaly::Gap { device, officer, first, last } => li {
                            (trf(l, "devices.gap", &[
                                ("device", device), ("officer", officer),
                                ("first", &first.to_string()), ("last", &last.to_string()),
                            ]))
                        },
                        Anomaly::LongDelay { device, officer, number, hours } => li {
                            (trf(l, "devices.delay", &[
                                ("device", device), ("officer", officer),
                                ("number", number), ("hours", &hours.to_string()),
                            ]))
                        },
                    }
                }
            }
        }
    }
}

/// `GET /staff/devices`
pub async fn page(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if !may_manage(&s) {
        return s.forbidden();
    }
    match load(&state, &s).await {
        Ok(loaded) => s.page(
            &i18n::here(&uri),
            tr(s.lang, "devices.title"),
            body(&s, &loaded, None, None),
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn answer(
    s: &ConsoleSession,
    state: &AppState,
    status: StatusCode,
    code: Option<(&str, &str)>,
    error: Option<&str>,
) -> Response {
    let loaded = load(state, s).await.unwrap_or_default();
    s.status_page(
        status,
        "/staff/devices",
        tr(s.lang, "devices.title"),
        body(s, &loaded, code, error),
    )
}

#[allow(clippy::result_large_err)]
fn message(e: efine_store::StoreError) -> Result<String, Response> {
    let e = ApiError::from(e);
    if e.status.is_server_error() {
        return Err(e.into_response());
    }
    Ok(match &e.field {
        Some(f) => format!("{f}: {}", e.message),
        None => e.message.clone(),
    })
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    officer: String,
}

/// `POST /staff/devices`: a one-time enrolment code for an officer, shown once.
pub async fn create_code(State(state): State<AppState>, f: ConsoleForm<CodeForm>) -> Response {
    let s = f.session;
    if !may_manage(&s) {
        return s.forbidden();
    }
    let officer = f.form.officer.trim().to_string();
    let by = s.principal.clone();
    let now = state.store.now();
    let who = officer.clone();
    match state
        .store
        .write(move |tx| devices::create_code(tx, &by, &who, now))
        .await
    {
        Ok(code) => answer(&s, &state, StatusCode::OK, Some((&officer, &code)), None).await,
        Err(e) => match message(e) {
            Ok(m) => answer(&s, &state, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&m)).await,
            Err(r) => r,
        },
    }
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    device: String,
}

/// `POST /staff/devices/revoke`
pub async fn revoke(State(state): State<AppState>, f: ConsoleForm<RevokeForm>) -> Response {
    let s = f.session;
    if !may_manage(&s) {
        return s.forbidden();
    }
    let id = f.form.device.trim().to_string();
    let by = s.principal.clone();
    let now = state.store.now();
    match state
        .store
        .write(move |tx| devices::revoke(tx, &by, &id, now))
        .await
    {
        Ok(_) => see_other("/staff/devices"),
        Err(e) => match message(e) {
            Ok(m) => answer(&s, &state, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&m)).await,
            Err(r) => r,
        },
    }
}
