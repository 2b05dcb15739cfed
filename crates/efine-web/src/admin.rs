//! The admin's console page: staff accounts with their open devices (bearer tokens) and browser
//! sessions, and a form to add an account (the same rules as `efine user add`).

use crate::console::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, esc, ltr, tr};
use crate::AppState;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use efine_core::auth::Role;
use efine_core::{DepartmentCode, DistrictCode};
use efine_store::ops::{console as store_console, users};
use serde::Deserialize;

/// `GET /staff/users`
pub async fn page(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(&[Role::Admin]) {
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
            &body(&s, &list, None),
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn body(s: &ConsoleSession, list: &[store_console::UserRow], error: Option<&str>) -> String {
    let l = s.lang;
    let mut b = format!(
        "<div class=scroll><table id=users><thead><tr><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th></tr></thead><tbody>",
        tr(l, "staff.username"),
        tr(l, "admin.role"),
        tr(l, "portal.department"),
        tr(l, "portal.district"),
        tr(l, "admin.devices"),
        tr(l, "admin.sessions"),
    );
    for u in list {
        let p = &u.principal;
        b.push_str(&format!(
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ltr(&p.username),
            if u.active {
                String::new()
            } else {
                format!(" ({})", tr(l, "admin.inactive"))
            },
            esc(p.role.as_str()),
            p.department
                .as_ref()
                .map(|d| ltr(d.as_str()))
                .unwrap_or_default(),
            p.district
                .as_ref()
                .map(|d| ltr(d.as_str()))
                .unwrap_or_default(),
            u.devices,
            u.sessions,
        ));
    }
    b.push_str("</tbody></table></div>");
    if let Some(e) = error {
        b.push_str(&format!(
            "<p class=bad role=alert id=form-error>{}</p>",
            esc(e)
        ));
    }
    let roles: String = Role::ALL
        .iter()
        .map(|r| format!("<option value=\"{0}\">{0}</option>", r.as_str()))
        .collect();
    b.push_str(&format!(
        "<h2>{}</h2><form method=post action=\"/staff/users\" class=box>{}\
         <label for=username>{}</label><input id=username name=username dir=ltr required maxlength=64 autocomplete=off>\
         <label for=role>{}</label><select id=role name=role>{roles}</select>\
         <label for=department>{}</label><input id=department name=department dir=ltr maxlength=64>\
         <label for=district>{}</label><input id=district name=district dir=ltr maxlength=64>\
         <label for=password>{}</label><input id=password name=password type=password required minlength=12 autocomplete=new-password>\
         <p class=hint>{}</p><p><button type=submit>{}</button></p></form>",
        tr(l, "admin.add"),
        s.csrf_field(),
        tr(l, "staff.username"),
        tr(l, "admin.role"),
        tr(l, "admin.department_code"),
        tr(l, "admin.district_code"),
        tr(l, "staff.password"),
        tr(l, "admin.password_hint"),
        tr(l, "admin.add"),
    ));
    b
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
        &body(s, &list, Some(&msg)),
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
    if let Err(r) = s.require(&[Role::Admin]) {
        return r;
    }
    let form = f.form;
    let now = state.store.now();
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
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
        Ok(_) => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            r.headers_mut()
                .insert(LOCATION, HeaderValue::from_static("/staff/users"));
            r
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
