//! Staff console sessions: browser login, the session cookie, CSRF, and the extractors staff
//! pages are built with.
//!
//! # Using it in a staff page
//! ```ignore
//! // GET: any signed-in staff member; redirects to /staff/login when there is no session.
//! async fn queue(s: ConsoleSession, uri: Uri) -> Response {
//!     if let Err(r) = s.require(Action::ReadQueues) { return r; }
//!     let body = html! { form method="post" action="/staff/x" { (s.csrf_field()) ... } };
//!     s.page(&i18n::here(&uri), "Title", body)
//! }
//! // POST: the form's `csrf` field is checked before the handler runs (403 when it is wrong).
//! async fn act(f: ConsoleForm<MyForm>) -> Response { let s = f.session; let form = f.form; ... }
//! ```
//! Every POST under `/staff/` must take [`ConsoleForm`] (or check [`ConsoleSession::check_csrf`]
//! itself); every form must carry [`ConsoleSession::csrf_field`].
//!
//! # How it works
//! The cookie `efine_staff` holds 32 random bytes (hex); the store keeps only its SHA-256
//! (`console_sessions`) with an expiry (the bearer-token lifetime). The cookie is `HttpOnly`,
//! `SameSite=Strict`, `Path=/`, and `Secure` when the public URL is https. The CSRF token is
//! SHA-256 of `csrf:` and the session token: bound to the session, never stored, and useless
//! without the cookie. The login form has its own CSRF (a random value in a short-lived
//! `SameSite=Strict` cookie and a hidden field that must match). Logging out appends to
//! `console_logouts`; login and logout are events in the hash-chained log.
//!
//! A session also ends after `console_idle` without a request (the last request is kept in
//! `console_session_seen`, written at most once a minute), when its account is disabled or its
//! password reset. Login goes through `crate::auth::login` (throttling, password, second factor);
//! an account whose role needs a second factor and has none is let in to the enrolment page
//! (`/staff/security`) only.

use super::parts::see_other;
use crate::i18n::{self, tr, trf, Lang};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use efine_core::auth::{Action, Principal, Scope};
use efine_store::ops::{console, users};
use maud::{html, Markup};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The session cookie.
pub const SESSION_COOKIE: &str = "efine_staff";
const LOGIN_COOKIE: &str = "efine_login";

/// Login and logout.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/login", get(login_get).post(login_post))
        .route("/staff/logout", post(logout))
}

/// A signed-in staff member's browser session.
pub struct ConsoleSession {
    pub principal: Principal,
    pub lang: Lang,
    /// The token every form of this session must carry in its `csrf` field.
    pub csrf: String,
    session_hash: String,
    /// The role needs a second factor and the account has not enrolled yet.
    pub must_enrol: bool,
}

/// Paths a session that must enrol its second factor may still use.
fn enrolment_path(path: &str) -> bool {
    path == "/staff/security" || path.starts_with("/staff/security/") || path == "/staff/logout"
}

/// A console cookie: never readable by scripts, never sent by another site's request, and only
/// over TLS when the site is served over TLS.
/// On an https site the name is `__Host-` prefixed and the path is always `/` (the prefix
/// requires it).
fn console_cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    path: &'static str,
    max_age: time::Duration,
) -> Cookie<'static> {
    let https = state.config.https();
    Cookie::build((crate::headers::cookie_name(https, name), value))
        .path(if https { "/" } else { path })
        .max_age(max_age)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(https)
        .build()
}

fn csrf_for(session_token: &str) -> String {
    users::token_hash(&format!("csrf:{session_token}"))
}

fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A local path to return to after login: starts with one `/`, nothing that leaves the site.
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(|c| c.is_control())
                && n.len() < 512 =>
        {
            n.to_string()
        }
        _ => "/staff".to_string(),
    }
}

fn encode(s: &str) -> String {
    serde_urlencoded::to_string([("next", s)]).unwrap_or_default()
}

impl FromRequestParts<AppState> for ConsoleSession {
    /// A redirect to the login page (which comes back here afterwards).
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let login = || {
            let next = if parts.method == axum::http::Method::GET {
                i18n::here(&parts.uri)
            } else {
                "/staff".into()
            };
            see_other(&format!("/staff/login?{}", encode(&next)))
        };
        let Some(token) = CookieJar::from_headers(&parts.headers)
            .get(&crate::headers::cookie_name(
                state.config.https(),
                SESSION_COOKIE,
            ))
            .map(|c| c.value().to_string())
            .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            return Err(login());
        };
        let hash = users::token_hash(&token);
        let h = hash.clone();
        let now = state.store.now();
        let idle_since = now - state.config.console_idle;
        let live = match state
            .store
            .read(move |tx| console::principal(tx, &h, now, idle_since))
            .await
        {
            Ok(Some(live)) => live,
            Ok(None) => return Err(login()),
            Err(e) => return Err(crate::error::ApiError::from(e).into_response()),
        };
        if now - live.last_seen >= time::Duration::minutes(1) {
            let h = hash.clone();
            if let Err(e) = state
                .store
                .write(move |tx| console::touch(tx, &h, now))
                .await
            {
                return Err(crate::error::ApiError::from(e).into_response());
            }
        }
        let must_enrol = live.principal.role.needs_second_factor() && !live.enrolled;
        if must_enrol && !enrolment_path(parts.uri.path()) {
            return Err(see_other("/staff/security"));
        }
        Ok(ConsoleSession {
            principal: live.principal,
            lang,
            csrf: csrf_for(&token),
            session_hash: hash,
            must_enrol,
        })
    }
}

impl ConsoleSession {
    /// The hidden field every console form carries.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }

    /// Whether a submitted token is this session's.
    pub fn check_csrf(&self, submitted: &str) -> bool {
        same(submitted, &self.csrf)
    }

    /// `Err(403 page)` unless the principal may ever do `action` (`Principal::may`).
    #[allow(clippy::result_large_err)]
    pub fn require(&self, action: Action) -> Result<(), Response> {
        match self.principal.may(action, &Scope::ANY) {
            Ok(()) => Ok(()),
            Err(_) => Err(self.forbidden()),
        }
    }

    /// Whether the principal may ever do `action`: which links and forms a page shows.
    pub fn may(&self, action: Action) -> bool {
        self.principal.may(action, &Scope::ANY).is_ok()
    }

    /// The 403 page.
    pub fn forbidden(&self) -> Response {
        self.status_page(
            StatusCode::FORBIDDEN,
            "/staff",
            tr(self.lang, "staff.forbidden"),
            html! { p { (tr(self.lang, "staff.forbidden_body")) } },
        )
    }

    /// The console's navigation: the sections this role may use, and sign out.
    pub fn nav(&self) -> Markup {
        let l = self.lang;
        html! {
            a href="/staff" { (tr(l, "staff.console")) }
            a href="/dashboard" { (tr(l, "staff.dashboard")) }
            @if self.may(Action::ConsumeVoucher) {
                a href="/staff/fees" { (tr(l, "fees.nav")) }
            }
            a href="/staff/security" { (tr(l, "security.nav")) }
            form.inline method="post" action="/staff/logout" {
                (self.csrf_field())
                button.secondary.compact { (tr(l, "staff.sign_out")) }
            }
        }
    }

    /// A console page (200) in the shared shell with the console's navigation.
    pub fn page(&self, here: &str, title: &str, body: Markup) -> Response {
        self.status_page(StatusCode::OK, here, title, body)
    }

    /// A console page with another status (e.g. 422 for a form with mistakes).
    pub fn status_page(
        &self,
        status: StatusCode,
        here: &str,
        title: &str,
        body: Markup,
    ) -> Response {
        let who = trf(
            self.lang,
            "staff.signed_in_as",
            &[
                ("user", &self.principal.username),
                ("role", self.principal.role.as_str()),
            ],
        );
        let body = html! { p.hint { (who) } (body) };
        let mut r = (
            status,
            Html(
                crate::pages::shell::page_custom(
                    self.lang,
                    here,
                    title,
                    self.nav(),
                    html! { link rel="stylesheet" href=(crate::pages::assets::console_css()); },
                    body,
                    true,
                )
                .into_string(),
            ),
        )
            .into_response();
        r.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        r
    }
}

/// A console POST: the session, and the form `T`, after its `csrf` field was checked.
pub struct ConsoleForm<T> {
    pub session: ConsoleSession,
    pub form: T,
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ConsoleForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = ConsoleSession::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let c: CsrfOnly = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfOnly {
            csrf: String::new(),
        });
        if !session.check_csrf(&c.csrf) {
            return Err(session.status_page(
                StatusCode::FORBIDDEN,
                "/staff",
                tr(session.lang, "staff.forbidden"),
                html! { p { (tr(session.lang, "staff.expired_form")) } },
            ));
        }
        match serde_urlencoded::from_bytes::<T>(&bytes) {
            Ok(form) => Ok(ConsoleForm { session, form }),
            Err(e) => Err(session.status_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "/staff",
                tr(session.lang, "staff.bad_input"),
                html! { p.bad { (e.to_string()) } },
            )),
        }
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_form(lang: Lang, csrf: &str, next: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error {
            p.bad role="alert" { (e) }
        }
        form method="post" action="/staff/login" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="next" value=(next);
            label for="username" { (tr(lang, "staff.username")) }
            input id="username" name="username" autocomplete="username" required maxlength="64" dir="ltr";
            label for="password" { (tr(lang, "staff.password")) }
            input id="password" name="password" type="password" autocomplete="current-password" required dir="ltr";
            label for="code" { (tr(lang, "security.code")) }
            input id="code" name="code" autocomplete="one-time-code" inputmode="text" maxlength="64" dir="ltr";
            p.hint { (tr(lang, "security.code_hint")) }
            p { button type="submit" { (tr(lang, "staff.sign_in")) } }
        }
    }
}

/// Whether no admin account exists yet, so the sign-in page says how to create the first one.
/// A database that cannot answer shows the plain form (the guidance is a help, not a gate).
async fn no_admin_yet(state: &AppState) -> bool {
    matches!(state.store.read(users::has_admin).await, Ok(false))
}

/// The first-start guidance: the same command `efine serve` prints when it finds no admin.
fn first_admin_guidance(lang: Lang, command: &str) -> Markup {
    html! {
        section.box #first-admin role="note" {
            h2 { (tr(lang, "first_start.title")) }
            p { (tr(lang, "first_start.body")) }
            p.id dir="ltr" { code { (command) } }
            p { (tr(lang, "first_start.password_note")) }
        }
    }
}

async fn login_page(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    next: &str,
    error: Option<&str>,
) -> Response {
    let guidance = no_admin_yet(state)
        .await
        .then(|| first_admin_guidance(lang, &state.config.first_admin_command));
    let (csrf, _) = users::new_token();
    let here = format!("/staff/login?{}", encode(next));
    let jar = CookieJar::new().add(console_cookie(
        state,
        LOGIN_COOKIE,
        csrf.clone(),
        "/staff/login",
        time::Duration::minutes(30),
    ));
    let mut r = (
        status,
        jar,
        Html(
            crate::pages::shell::page(
                lang,
                &here,
                tr(lang, "staff.login"),
                html! {
                    @if let Some(g) = guidance { (g) }
                    (login_form(lang, &csrf, next, error))
                },
            )
            .into_string(),
        ),
    )
        .into_response();
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    r
}

/// `GET /staff/login`
pub async fn login_get(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<NextQuery>,
) -> Response {
    login_page(
        &state,
        lang,
        StatusCode::OK,
        &local_next(q.next.as_deref()),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

/// `POST /staff/login`: checks the login CSRF and the password, opens a session, and sends the
/// browser on to `next` (a local path) or the console home.
pub async fn login_post(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    lang: Lang,
    jar: CookieJar,
    axum::Form(f): axum::Form<LoginForm>,
) -> Response {
    let next = local_next(f.next.as_deref());
    let expected = jar
        .get(&crate::headers::cookie_name(
            state.config.https(),
            LOGIN_COOKIE,
        ))
        .map(Cookie::value)
        .unwrap_or("");
    if expected.is_empty() || !same(expected, &f.csrf) {
        return login_page(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            &next,
            Some(tr(lang, "staff.expired_form")),
        )
        .await;
    }
    let principal = match crate::auth::login(
        &state,
        peer.ip(),
        &f.username,
        &f.password,
        Some(f.code.as_str()),
        true,
    )
    .await
    {
        Ok(l) => l.principal,
        Err(crate::auth::LoginRefused::Blocked(until)) => {
            let secs = (until - state.store.now())
                .whole_seconds()
                .max(1)
                .to_string();
            state.metrics.login_failures.inc(&["console"]);
            let mut r = login_page(
                &state,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                Some(&trf(lang, "security.throttled", &[("seconds", &secs)])),
            )
            .await;
            if let Ok(v) = HeaderValue::from_str(&secs) {
                r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            return r;
        }
        Err(crate::auth::LoginRefused::Store(e)) => {
            return crate::error::ApiError::from(e).into_response()
        }
        Err(_) => {
            state.metrics.login_failures.inc(&["console"]);
            return login_page(
                &state,
                lang,
                StatusCode::UNAUTHORIZED,
                &next,
                Some(tr(lang, "staff.wrong_login")),
            )
            .await;
        }
    };
    let (token, token_hash) = users::new_token();
    let now = state.store.now();
    let expires = now + state.config.token_ttl;
    if let Err(e) = state
        .store
        .write(move |tx| console::open(tx, &principal, &token_hash, now, expires))
        .await
    {
        return crate::error::ApiError::from(e).into_response();
    }
    let session = console_cookie(&state, SESSION_COOKIE, token, "/", state.config.token_ttl);
    (CookieJar::new().add(session), see_other(&next)).into_response()
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /staff/logout`: ends the session and clears the cookie.
pub async fn logout(State(state): State<AppState>, f: ConsoleForm<Empty>) -> Response {
    let s = f.session;
    let now = state.store.now();
    let p = s.principal.clone();
    let h = s.session_hash.clone();
    if let Err(e) = state
        .store
        .write(move |tx| console::close(tx, &p, &h, now))
        .await
    {
        return crate::error::ApiError::from(e).into_response();
    }
    // The same attributes with no value and no lifetime: the browser drops the cookie.
    let cleared = console_cookie(
        &state,
        SESSION_COOKIE,
        String::new(),
        "/",
        time::Duration::ZERO,
    );
    (CookieJar::new().add(cleared), see_other("/staff/login")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            local_next(Some("/staff/challans?page=2")),
            "/staff/challans?page=2"
        );
        assert_eq!(local_next(Some("//evil.example/")), "/staff");
        assert_eq!(local_next(Some("https://evil.example/")), "/staff");
        assert_eq!(local_next(Some("/\\evil")), "/staff");
        assert_eq!(local_next(None), "/staff");
    }
}
