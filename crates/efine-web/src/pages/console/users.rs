//! The admin's console page: staff accounts with their open devices (bearer tokens) and browser
//! sessions, and a form to add an account (the same rules as `efine user add`).

use super::parts::{blank, ident, see_other};
use super::session::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, tr};
use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use efine_core::auth::{Action, Role};
use efine_core::{DepartmentCode, DistrictCode};
use efine_store::ops::{console as store_console, users};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/staff/users", get(page).post(add))
}

/// `GET /staff/users`
pub async fn page(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(Action::ManageUsers) {
        return r;
    }
    let now = state.store.now();
    match state
        .store
        .read(move |tx| store_console::users(tx, now))
        .await
    {
        Ok(list) => s.page(
            &i18n::here(&uri),
            tr(s.lang, "admin.title"),
            body(&s, &list, None),
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn body(s: &ConsoleSession, list: &[store_console::UserRow], error: Option<&str>) -> Markup {
    let l = s.lang;
    html! {
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
                    }
                }
                tbody {
                    @for u in list {
                        @let p = &u.principal;
                        tr {
                            td {
                                (ident(&p.username))
                                @if !u.active { " (" (tr(l, "admin.inactive")) ")" }
                            }
                            td { (p.role.as_str()) }
                            td { @if let Some(d) = &p.department { (ident(d.as_str())) } }
                            td { @if let Some(d) = &p.district { (ident(d.as_str())) } }
                            td { (u.devices) }
                            td { (u.sessions) }
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
            label for="department" { (tr(l, "admin.department_code")) }
            input id="department" name="department" dir="ltr" maxlength="64";
            label for="district" { (tr(l, "admin.district_code")) }
            input id="district" name="district" dir="ltr" maxlength="64";
            label for="password" { (tr(l, "staff.password")) }
            input id="password" name="password" type="password" required minlength="12" autocomplete="new-password";
            p.hint { (tr(l, "admin.password_hint")) }
            p { button type="submit" { (tr(l, "admin.add")) } }
        }
    }
}

async fn fail(
    s: &ConsoleSession,
    state: &AppState,
    now: time::OffsetDateTime,
    msg: String,
) -> Response {
    let list = state
        .store
        .read(move |tx| store_console::users(tx, now))
        .await
        .unwrap_or_default();
    s.status_page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "/staff/users",
        tr(s.lang, "admin.title"),
        body(s, &list, Some(&msg)),
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
    if form.password.chars().count() < 12 || form.password.len() > 1024 {
        return fail(&s, &state, now, tr(s.lang, "admin.password_hint").into()).await;
    }
    let password = form.password;
    let hash = match tokio::task::spawn_blocking(move || users::hash_password(&password)).await {
        Ok(Ok(h)) => h,
        _ => return ApiError::internal("hashing failed").into_response(),
    };
    let new = users::NewUser {
        username: form.username.trim().to_string(),
        password_hash: hash,
        role,
        department,
        district,
    };
    let actor = s.principal.username.clone();
    match state
        .store
        .write(move |tx| users::add(tx, &new, &actor, now))
        .await
    {
        Ok(_) => see_other("/staff/users"),
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
