//! The admin's console page: staff accounts with their open devices (bearer tokens) and browser
//! sessions, a form to add an account (the same rules as `efine user add`), and the account
//! lifecycle: disable (every token and session ends at once), enable, reset a password. An
//! account with a role that approves waits, inactive, for a second admin to approve its grant
//! (`users::add_by_admin`, `users::decide_grant`).

use super::parts::{blank, ident, see_other};
use super::session::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, tr};
use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use efine_core::auth::{Action, Role};
use efine_core::{DepartmentCode, DistrictCode};
use efine_store::ops::{console as store_console, users};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/users", get(page).post(add))
        .route("/staff/users/disable", post(disable))
        .route("/staff/users/enable", post(enable))
        .route("/staff/users/reset-password", post(reset_password))
        .route("/staff/users/grants", post(decide_grant))
}

/// The catalogue's districts and departments, for the account form's pickers.
type Catalogue = (
    Vec<efine_core::catalogue::District>,
    Vec<efine_core::catalogue::Department>,
);

/// The list, the pending grants and the catalogue.
async fn load(
    state: &AppState,
    now: time::OffsetDateTime,
) -> Result<(Vec<store_console::UserRow>, Vec<users::Grant>, Catalogue), efine_store::StoreError> {
    state
        .store
        .read(move |tx| {
            Ok((
                store_console::users(tx, now)?,
                users::pending_grants(tx)?,
                (
                    efine_store::ops::catalogue::districts(tx)?,
                    efine_store::ops::catalogue::departments(tx)?,
                ),
            ))
        })
        .await
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    added: Option<String>,
}

/// `GET /staff/users`
pub async fn page(
    State(state): State<AppState>,
    s: ConsoleSession,
    uri: Uri,
    axum::extract::Query(q): axum::extract::Query<UsersQuery>,
) -> Response {
    if let Err(r) = s.require(Action::ManageUsers) {
        return r;
    }
    let now = state.store.now();
    match load(&state, now).await {
        Ok((list, grants, cat)) => {
            let added = q
                .added
                .as_deref()
                .filter(|u| list.iter().any(|row| row.principal.username == *u))
                .map(|u| {
                    crate::i18n::trf(
                        s.lang,
                        "admin.added",
                        &[("user", &super::parts::isolate(u))],
                    )
                });
            s.page(
                &i18n::here(&uri),
                tr(s.lang, "admin.title"),
                html! {
                    @if let Some(m) = added { p.ok role="status" id="result" { (m) } }
                    (body(&s, &list, &grants, &cat, None))
                },
            )
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn body(
    s: &ConsoleSession,
    list: &[store_console::UserRow],
    grants: &[users::Grant],
    cat: &Catalogue,
    error: Option<&str>,
) -> Markup {
    let l = s.lang;
    html! {
        @if !grants.is_empty() {
            h2 { (tr(l, "accounts.grants")) }
            div.scroll {
                table id="grants" {
                    thead { tr {
                        th scope="col" { (tr(l, "staff.username")) }
                        th scope="col" { (tr(l, "admin.role")) }
                        th scope="col" { (tr(l, "accounts.requested_by")) }
                        th scope="col" {}
                    } }
                    tbody {
                        @for g in grants {
                            tr {
                                td { (ident(&g.username)) }
                                td { (g.role.as_str()) }
                                td { (ident(&g.requested_by)) }
                                td {
                                    @if g.requested_by != s.principal.username {
                                        form method="post" action="/staff/users/grants" class="row" {
                                            (s.csrf_field())
                                            input type="hidden" name="id" value=(g.id);
                                            button type="submit" name="decision" value="approve" { (tr(l, "finance.approve")) }
                                            button type="submit" name="decision" value="reject" class="secondary" { (tr(l, "finance.reject")) }
                                        }
                                    } @else {
                                        (tr(l, "accounts.awaiting_other"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        div.scroll {
            table id="users" {
                thead {
                    tr {
                        th scope="col" { (tr(l, "staff.username")) }
                        th scope="col" { (tr(l, "admin.role")) }
                        th scope="col" { (tr(l, "portal.department")) }
                        th scope="col" { (tr(l, "portal.district")) }
                        th scope="col" { (tr(l, "admin.devices")) }
                        th scope="col" { (tr(l, "admin.sessions")) }
                        th scope="col" { (tr(l, "accounts.second_factor")) }
                        th scope="col" {}
                    }
                }
                tbody {
                    @for u in list {
                        @let p = &u.principal;
                        tr {
                            td {
                                (ident(&p.username))
                                @if u.pending_grant { " (" (tr(l, "accounts.awaiting")) ")" }
                                @else if !u.active { " (" (tr(l, "admin.inactive")) ")" }
                            }
                            td { (p.role.as_str()) }
                            td { @if let Some(d) = &p.department { (ident(d.as_str())) } }
                            td { @if let Some(d) = &p.district { (ident(d.as_str())) } }
                            td { (u.devices) }
                            td { (u.sessions) }
                            td { @if u.enrolled { (tr(l, "accounts.yes")) } @else { "-" } }
                            td {
                                @if p.username != s.principal.username && !u.pending_grant {
                                    form method="post" action=(if u.active { "/staff/users/disable" } else { "/staff/users/enable" }) {
                                        (s.csrf_field())
                                        input type="hidden" name="username" value=(p.username);
                                        button type="submit" class="secondary" {
                                            (tr(l, if u.active { "accounts.disable" } else { "accounts.enable" }))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(e) = error {
            p.bad role="alert" id="form-error" { (e) }
        }
        h2 { (tr(l, "admin.add")) }
        form method="post" action="/staff/users" class="box" {
            (s.csrf_field())
            label for="username" { (tr(l, "staff.username")) }
            input id="username" name="username" dir="ltr" required maxlength="64" autocomplete="off";
            label for="role" { (tr(l, "admin.role")) }
            select id="role" name="role" {
                @for r in Role::ALL {
                    option value=(r.as_str()) { (r.as_str()) }
                }
            }
            label for="department" { (tr(l, "portal.department")) }
            select id="department" name="department" {
                option value="" { (tr(l, "admin.none_province")) }
                @for d in &cat.1 {
                    option value=(d.code.as_str()) { (l.pick(&d.name_en, &d.name_ur)) }
                }
            }
            label for="district" { (tr(l, "portal.district")) }
            select id="district" name="district" {
                option value="" { (tr(l, "admin.none_province")) }
                @for d in &cat.0 {
                    option value=(d.code.as_str()) { (l.pick(&d.name_en, &d.name_ur)) }
                }
            }
            p.hint { (tr(l, "admin.scope_hint")) }
            label for="password" { (tr(l, "staff.password")) }
            input id="password" name="password" type="password" required minlength="12" autocomplete="new-password";
            p.hint { (tr(l, "admin.password_hint")) }
            p { button type="submit" { (tr(l, "admin.add")) } }
        }
        h2 { (tr(l, "accounts.reset")) }
        form method="post" action="/staff/users/reset-password" class="box" {
            (s.csrf_field())
            label for="reset-username" { (tr(l, "staff.username")) }
            input id="reset-username" name="username" dir="ltr" required maxlength="64" autocomplete="off";
            label for="reset-password" { (tr(l, "staff.password")) }
            input id="reset-password" name="password" type="password" required minlength="12" autocomplete="new-password";
            p.hint { (tr(l, "admin.password_hint")) }
            p { button type="submit" { (tr(l, "accounts.reset")) } }
        }
    }
}

async fn fail(
    s: &ConsoleSession,
    state: &AppState,
    now: time::OffsetDateTime,
    msg: String,
) -> Response {
    let (list, grants, cat) = load(state, now).await.unwrap_or_default();
    s.status_page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "/staff/users",
        tr(s.lang, "admin.title"),
        body(s, &list, &grants, &cat, Some(&msg)),
    )
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    department: Option<String>,
    district: Option<String>,
    #[serde(default)]
    password: String,
}

/// `POST /staff/users`: adds an account (Argon2id on a blocking thread); recorded as an event.
pub async fn add(State(state): State<AppState>, f: ConsoleForm<AddForm>) -> Response {
    let s = f.session;
    if let Err(r) = s.require(Action::ManageUsers) {
        return r;
    }
    let form = f.form;
    let now = state.store.now();
    let Some(role) = Role::parse(form.role.trim()) else {
        return fail(&s, &state, now, "role".into()).await;
    };
    let department = match blank(&form.department).map(|d| DepartmentCode::parse(&d)) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => return fail(&s, &state, now, format!("department: {}", e.0)).await,
    };
    let district = match blank(&form.district).map(|d| DistrictCode::parse(&d)) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => return fail(&s, &state, now, format!("district: {}", e.0)).await,
    };
    // A code must be one of the catalogue's: a misspelt code would give an account that sees
    // nothing.
    let (_, _, (districts, departments)) = load(&state, now).await.unwrap_or_default();
    if department
        .as_ref()
        .is_some_and(|d| !departments.iter().any(|x| &x.code == d))
    {
        let msg = format!("department: {}", tr(s.lang, "admin.unknown_department"));
        return fail(&s, &state, now, msg).await;
    }
    if district
        .as_ref()
        .is_some_and(|d| !districts.iter().any(|x| &x.code == d))
    {
        let msg = format!("district: {}", tr(s.lang, "admin.unknown_district"));
        return fail(&s, &state, now, msg).await;
    }
    let hash = match checked_hash(&s, &form.username, form.password).await {
        Ok(h) => h,
        Err(msg) => return fail(&s, &state, now, msg).await,
    };
    let new = users::NewUser {
        username: form.username.trim().to_string(),
        password_hash: hash,
        role,
        department,
        district,
    };
    let admin = s.principal.clone();
    match state
        .store
        .write(move |tx| users::add_by_admin(tx, &new, &admin, now))
        .await
    {
        Ok(p) => {
            let q =
                serde_urlencoded::to_string([("added", p.username.as_str())]).unwrap_or_default();
            see_other(&format!("/staff/users?{q}#result"))
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return e.into_response();
            }
            let msg = match &e.field {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message.clone(),
            };
            fail(&s, &state, now, msg).await
        }
    }
}

/// The password checked against the one policy and hashed (on a blocking thread), or the
/// policy's message in the page's language.
async fn checked_hash(
    s: &ConsoleSession,
    username: &str,
    password: String,
) -> Result<String, String> {
    if let Err(w) = efine_core::auth::password::check(username.trim(), &password) {
        return Err(format!(
            "{}: {}",
            tr(s.lang, "staff.password"),
            tr(s.lang, w.key())
        ));
    }
    let u = username.trim().to_string();
    match tokio::task::spawn_blocking(move || users::hash_checked_password(&u, &password)).await {
        Ok(Ok(h)) => Ok(h),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// A store answer shown on the page: a refusal as the form's message, a failure as its status.
async fn outcome(
    s: &ConsoleSession,
    state: &AppState,
    now: time::OffsetDateTime,
    r: Result<(), efine_store::StoreError>,
) -> Response {
    match r {
        Ok(()) => see_other("/staff/users"),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return e.into_response();
            }
            let (list, grants, cat) = load(state, now).await.unwrap_or_default();
            s.status_page(
                e.status,
                "/staff/users",
                tr(s.lang, "admin.title"),
                body(s, &list, &grants, &cat, Some(&e.message)),
            )
        }
    }
}

#[derive(Deserialize)]
pub struct UsernameForm {
    #[serde(default)]
    username: String,
}

/// `POST /staff/users/disable`: the account can no longer sign in; its tokens and sessions end.
pub async fn disable(State(state): State<AppState>, f: ConsoleForm<UsernameForm>) -> Response {
    let s = f.session;
    if let Err(r) = s.require(Action::ManageUsers) {
        return r;
    }
    let now = state.store.now();
    let actor = s.principal.username.clone();
    let u = f.form.username;
    let r = state
        .store
        .write(move |tx| users::disable(tx, &u, &actor, now).map(|_| ()))
        .await;
    outcome(&s, &state, now, r).await
}

/// `POST /staff/users/enable`
pub async fn enable(State(state): State<AppState>, f: ConsoleForm<UsernameForm>) -> Response {
    let s = f.session;
    if let Err(r) = s.require(Action::ManageUsers) {
        return r;
    }
    let now = state.store.now();
    let actor = s.principal.username.clone();
    let u = f.form.username;
    let r = state
        .store
        .write(move |tx| users::enable(tx, &u, &actor, now).map(|_| ()))
        .await;
    outcome(&s, &state, now, r).await
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /staff/users/reset-password`: a new password (the one policy); every token and
/// session of the account ends.
pub async fn reset_password(State(state): State<AppState>, f: ConsoleForm<ResetForm>) -> Response {
    let s = f.session;
    if let Err(r) = s.require(Action::ManageUsers) {
        return r;
    }
    let now = state.store.now();
    let hash = match checked_hash(&s, &f.form.username, f.form.password).await {
        Ok(h) => h,
        Err(msg) => return fail(&s, &state, now, msg).await,
    };
    let actor = s.principal.username.clone();
    let u = f.form.username;
    let r = state
        .store
        .write(move |tx| users::reset_password(tx, &u, &hash, &actor, now).map(|_| ()))
        .await;
    outcome(&s, &state, now, r).await
}

#[derive(Deserialize)]
pub struct GrantForm {
    id: i64,
    #[serde(default)]
    decision: String,
}

/// `POST /staff/users/grants`: a second admin approves or rejects a role grant.
pub async fn decide_grant(State(state): State<AppState>, f: ConsoleForm<GrantForm>) -> Response {
    let s = f.session;
    if let Err(r) = s.require(Action::ManageUsers) {
        return r;
    }
    let now = state.store.now();
    let approve = f.form.decision == "approve";
    let admin = s.principal.clone();
    let id = f.form.id;
    let r = state
        .store
        .write(move |tx| users::decide_grant(tx, id, approve, &admin, now).map(|_| ()))
        .await;
    outcome(&s, &state, now, r).await
}
