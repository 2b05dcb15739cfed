//! `GET /c/{number}/appeal`: why the challan is contested, with an optional evidence file (a
//! `multipart/form-data` form) and the proof that the person appealing is the person charged
//! (a code sent by SMS, `POST /c/{number}/appeal/code`, or the CNIC on a challan without a
//! mobile); `POST` lodges the appeal with the same checks and the same store calls as the JSON
//! API.

use super::common::{challan_or_page, respond, see_other, ChallanData, ContestClosed};
use crate::api::appeals::{self as appeals_c, EvidenceProblem};
use crate::api::cancellations::text_field;
use crate::error::ApiError;
use crate::i18n::{self, date, tr, Lang};
use crate::pages::shell::{self, ltr, trf_html};
use crate::AppState;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use efine_core::appeal::AppealStatus;
use efine_core::appeal_proof::{NotNow, ProofError};
use efine_core::clock::karachi_date;
use efine_core::penalty::AppealOutcome;
use efine_core::ChallanNumber;
use efine_store::ops::appeal_proof::Needed;
use efine_store::ops::appeals::Appeal;
use maud::{html, Markup};
use serde::Deserialize;

/// A mobile as the page shows it: masked.
fn masked(e164: &str) -> String {
    efine_core::MobileNumber::parse(e164)
        .map(|m| efine_core::mask::mobile(&m))
        .unwrap_or_else(|_| "***".into())
}

/// What the form shows besides the appeal: a notice (a code was sent) or an error.
#[derive(Default)]
struct Said<'a> {
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

fn appeal_form(lang: Lang, number: &str, needed: &Needed, said: Said<'_>, reason: &str) -> Markup {
    // The types by content type and by extension: some phones offer only files whose
    // extension matches.
    let accept = format!(
        "{},.jpg,.jpeg,.png,.pdf",
        appeals_c::EVIDENCE_TYPES.join(",")
    );
    html! {
        p { (tr(lang, "appeal.intro")) }
        @if let Some(n) = said.notice {
            p class="ok" role="status" id="appeal-notice" { (n) }
        }
        @if let Some(e) = said.error {
            p class="bad" role="alert" id="appeal-error" { (e) }
        }
        @match needed {
            Needed::Nothing => {
                p id="appeal-no-proof" { (tr(lang, "appealproof.no_proof")) }
            }
            Needed::Code { mobile } => {
                form method="post" action={ "/c/" (number) "/appeal/code" } id="appeal-code-form" {
                    p { (trf_html(lang, "appealproof.code_intro", &[("mobile", ltr(&masked(mobile)))])) }
                    p { button type="submit" { (tr(lang, "appealproof.send_code")) } }
                }
                (lodge_form(lang, number, needed, &accept, reason))
            }
            Needed::Cnic => (lodge_form(lang, number, needed, &accept, reason)),
        }
    }
}

fn lodge_form(lang: Lang, number: &str, needed: &Needed, accept: &str, reason: &str) -> Markup {
    html! {
        form method="post" action={ "/c/" (number) "/appeal" } enctype="multipart/form-data" {
            @if let Needed::Code { .. } = needed {
                label for="code" { (tr(lang, "appealproof.code")) }
                p class="hint" id="code-hint" { (tr(lang, "appealproof.code_hint")) }
                input type="text" id="code" name="code" inputmode="numeric"
                    autocomplete="one-time-code" maxlength="9" required
                    aria-describedby="code-hint";
            }
            @if let Needed::Cnic = needed {
                label for="cnic" { (tr(lang, "appealproof.cnic")) }
                p class="hint" id="cnic-hint" { (tr(lang, "appealproof.cnic_hint")) }
                input type="text" id="cnic" name="cnic" inputmode="numeric"
                    autocomplete="off" maxlength="15" required
                    aria-describedby="cnic-hint";
            }
            label for="reason" { (tr(lang, "appeal.reason")) }
            p class="hint" id="reason-hint" { (tr(lang, "appeal.reason_hint")) }
            textarea id="reason" name="reason" rows="5" required maxlength="500"
                aria-describedby="reason-hint" { (reason) }
            label for="evidence" { (tr(lang, "appeal.evidence")) }
            p class="hint" id="evidence-hint" { (tr(lang, "appeal.evidence_hint")) }
            input type="file" id="evidence" name="evidence" accept=(accept)
                aria-describedby="evidence-hint";
            p { button type="submit" { (tr(lang, "appeal.submit")) } }
        }
    }
}

/// An appeal's state in one sentence, in the reader's language (never the stored status word).
pub(super) fn appeal_status_text(lang: Lang, a: &Appeal) -> String {
    let on = |t: Option<time::OffsetDateTime>| date(lang, karachi_date(t.unwrap_or(a.lodged_at)));
    match (a.status, a.outcome) {
        (AppealStatus::Pending, _) => i18n::trf(
            lang,
            "appeal.state_pending",
            &[("date", &date(lang, karachi_date(a.lodged_at)))],
        ),
        (AppealStatus::Decided, Some(AppealOutcome::Uphold)) => {
            i18n::trf(lang, "appeal.state_upheld", &[("date", &on(a.decided_at))])
        }
        (AppealStatus::Decided, Some(AppealOutcome::Reduce)) => i18n::trf(
            lang,
            "appeal.state_reduced",
            &[
                ("date", &on(a.decided_at)),
                (
                    "amount",
                    &i18n::money(lang, a.decided_amount.unwrap_or(efine_core::Money::ZERO)),
                ),
            ],
        ),
        (AppealStatus::Decided, _) => {
            i18n::trf(lang, "appeal.state_quashed", &[("date", &on(a.decided_at))])
        }
        (AppealStatus::Closed, _) => {
            let key = if a.decision_note.as_deref() == Some("challan cancelled") {
                "appeal.state_closed_cancelled"
            } else {
                "appeal.state_closed_paid"
            };
            i18n::trf(lang, key, &[("date", &on(a.decided_at))])
        }
    }
}

/// How the citizen hears of the decision: an SMS to the challan's mobile (masked), and this
/// page either way.
fn how_you_hear(lang: Lang, mobile: Option<&str>) -> Markup {
    html! {
        p id="appeal-hear" {
            @if let Some(m) = mobile {
                (trf_html(lang, "appeal.hear_sms", &[("mobile", ltr(m))]))
            } @else {
                (tr(lang, "appeal.hear_page"))
            }
        }
    }
}

/// The appeal's page: where it stands, what happened when, the decision and its reason.
fn appeal_page(lang: Lang, d: &ChallanData, a: &Appeal, lodged_now: bool) -> Markup {
    let v = &d.view;
    let n = &v.challan_number;
    let day = |t: time::OffsetDateTime| date(lang, karachi_date(t));
    html! {
        div class=(if a.status == AppealStatus::Pending { "box" } else { "ok" }) id="appeal-status" {
            p class="big" { (appeal_status_text(lang, a)) }
            @if a.status == AppealStatus::Pending {
                p { (tr(lang, "appeal.pending_body")) }
                @if v.status == "unpaid" {
                    p id="appeal-amount" {
                        (i18n::trf(lang, "appeal.frozen_amount", &[(
                            "amount",
                            &i18n::money(lang, efine_core::Money::from_paisa(v.amount_due).unwrap_or(efine_core::Money::ZERO)),
                        )]))
                    }
                }
            }
        }
        @if a.status == AppealStatus::Pending {
            (how_you_hear(lang, v.mobile.as_deref()))
        }
        @if a.status == AppealStatus::Decided {
            @if let Some(note) = a.decision_note.as_deref().filter(|s| !s.trim().is_empty()) {
                p id="appeal-reason" { strong { (tr(lang, "appeal.decision_reason")) ": " } (note) }
            }
        }
        h2 { (tr(lang, "appeal.history")) }
        ol id="appeal-history" {
            li {
                (i18n::trf(lang, "appeal.history_lodged", &[
                    ("date", &day(a.lodged_at)),
                    ("id", &i18n::digits(lang, &a.id.to_string())),
                ]))
                @if let Some(name) = &a.evidence_name {
                    " " (trf_html(lang, "appeal.history_evidence", &[("name", ltr(name))]))
                }
            }
            @if a.status != AppealStatus::Pending {
                li { (appeal_status_text(lang, a)) }
            }
        }
        @if lodged_now {
            @if let (Some(name), Some(sha)) = (&a.evidence_name, &a.evidence_sha256) {
                p class="hint" id="appeal-evidence" {
                    (trf_html(lang, "appeal.evidence_received", &[
                        ("name", ltr(name)),
                        ("sha256", ltr(sha)),
                    ]))
                }
            }
        }
        @if v.status == "unpaid" {
            (super::pay::how_to_pay_link(lang, n))
        }
        p { a href={ "/c/" (n) } { (tr(lang, "pay.back_to_challan")) } }
    }
}

/// The page for a challan that cannot be contested today: the reason, and the way back.
fn closed_page(
    lang: Lang,
    status: StatusCode,
    here: &str,
    n: &str,
    why: ContestClosed,
) -> Response {
    respond(
        status,
        shell::page(
            lang,
            here,
            tr(lang, "appeal.closed_title"),
            html! {
                p class="bad" role="alert" id="appeal-error" { (why.say(lang)) }
                p { a href={ "/c/" (n) } { (tr(lang, "pay.back_to_challan")) } }
            },
        ),
    )
}

/// `GET /c/{number}/appeal`: one question, why the challan is contested, and an optional
/// evidence file.
pub async fn appeal_get(
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
    if let Some(a) = &d.appeal {
        return respond(
            StatusCode::OK,
            shell::page(
                lang,
                &here,
                tr(lang, "appeal.page_title"),
                appeal_page(lang, &d, a, false),
            ),
        );
    }
    if let Err(why) = d.contest() {
        return closed_page(lang, StatusCode::OK, &here, &d.view.challan_number, why);
    }
    let needed = match needed(&state, &d.view.challan_number).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    respond(
        StatusCode::OK,
        shell::page(
            lang,
            &here,
            tr(lang, "appeal.title"),
            appeal_form(lang, &d.view.challan_number, &needed, Said::default(), ""),
        ),
    )
}

/// What proof the challan's appeal needs (for no such challan, nothing: the write that follows
/// answers 404 on the page); a database failure is answered as a page.
async fn needed(state: &AppState, number: &str) -> Result<Needed, Response> {
    let n = ChallanNumber::parse(number).map_err(|_| see_other("/"))?;
    match state
        .store
        .read(move |tx| efine_store::ops::appeal_proof::needed(tx, &n))
        .await
    {
        Ok(x) => Ok(x),
        Err(efine_store::StoreError::NotFound(_)) => Ok(Needed::Nothing),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// A refused proof, in the reader's language.
fn proof_message(lang: Lang, e: &ProofError) -> String {
    match e {
        ProofError::CodeRequired => tr(lang, "appealproof.code_required").into(),
        ProofError::CodeExpired => tr(lang, "appealproof.code_expired").into(),
        ProofError::CodeVoid => tr(lang, "appealproof.code_void").into(),
        ProofError::CodeWrong { tries_left } => i18n::trf(
            lang,
            "appealproof.code_wrong",
            &[("left", &i18n::digits(lang, &tries_left.to_string()))],
        ),
        ProofError::CnicRequired => tr(lang, "appealproof.cnic_required").into(),
        ProofError::CnicWrong => tr(lang, "appealproof.cnic_wrong").into(),
        ProofError::CnicLocked => tr(lang, "appealproof.cnic_locked").into(),
        ProofError::NoProofPossible => tr(lang, "appealproof.no_proof").into(),
    }
}

/// `POST /c/{number}/appeal/code`: sends the code by SMS and shows the form again with where
/// it went (rate-limited per address like the appeal itself, and per challan).
pub async fn appeal_code_post(
    State(state): State<AppState>,
    lang: Lang,
    axum::Extension(crate::ratelimit::ClientAddr(client)): axum::Extension<
        crate::ratelimit::ClientAddr,
    >,
    Path(number): Path<String>,
) -> Response {
    let Ok(n) = ChallanNumber::parse(&number) else {
        return see_other("/");
    };
    let here = format!("/c/{}/appeal", n);
    let needed = match needed(&state, &n.to_string()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = |status: StatusCode, said: Said<'_>| {
        respond(
            status,
            shell::page(
                lang,
                &here,
                tr(lang, "appeal.title"),
                appeal_form(lang, &n.to_string(), &needed, said, ""),
            ),
        )
    };
    if state.lookup_limiter.check(client).is_err() {
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            Said {
                error: Some(tr(lang, "portal.too_many")),
                notice: None,
            },
        );
    }
    // The code's SMS goes in the language the citizen is reading.
    super::common::remember_language(&state, &n, lang).await;
    match appeals_c::send_code(&state, n.clone()).await {
        Ok(Ok(sent)) => {
            let notice = i18n::trf(
                lang,
                "appealproof.code_sent",
                &[("mobile", &shell::ltr_text(&masked(&sent.to)))],
            );
            page(
                StatusCode::OK,
                Said {
                    error: None,
                    notice: Some(&notice),
                },
            )
        }
        Ok(Err(not_now)) => {
            let key = match not_now {
                NotNow::TooSoon { .. } => "appealproof.code_too_soon",
                NotNow::TooMany => "appealproof.too_many_codes",
            };
            page(
                StatusCode::TOO_MANY_REQUESTS,
                Said {
                    error: Some(tr(lang, key)),
                    notice: None,
                },
            )
        }
        Err(e) if e.status.is_server_error() => e.into_response(),
        Err(e) => page(
            e.status,
            Said {
                error: Some(&e.message),
                notice: None,
            },
        ),
    }
}

/// The largest request `POST /c/{number}/appeal` reads (set on that route in the router).
/// Above the 10 MB upload limit so that a larger file is read and refused with a message on
/// the form instead of the connection being cut. Only the first
/// [`appeals_c::MAX_UPLOAD_BYTES`] + 1 bytes of the file are kept in memory.
pub const APPEAL_FORM_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The reason is at most 500 characters, so at most 2,000 bytes of UTF-8.
const REASON_MAX_BYTES: usize = 500 * 4;

/// A form posted without a file (`application/x-www-form-urlencoded`) is read up to this.
const PLAIN_FORM_MAX_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    cnic: String,
}

/// What the appeal form sent.
#[derive(Default)]
struct AppealSubmission {
    reason: String,
    /// The reason field was longer than any valid reason.
    reason_too_long: bool,
    /// The proof: the code from the SMS, or the CNIC on the challan (short fields: anything
    /// longer than a few characters is cut and then refused as malformed).
    code: String,
    cnic: String,
    /// File name and declared content type as the browser sent them, and the first
    /// `MAX_UPLOAD_BYTES + 1` bytes (enough to tell that a file is too large).
    file: Option<(String, String, Vec<u8>)>,
}

/// Why the form could not be read at all.
enum Unreadable {
    /// The request was larger than [`APPEAL_FORM_BODY_LIMIT`].
    TooLarge,
    /// Not a form, or a broken multipart body.
    Malformed,
}

/// Reads a multipart field's first `cap + 1` bytes at most; the rest is skipped by the next
/// `next_field` (still counted against the body limit).
async fn read_capped(
    field: &mut axum::extract::multipart::Field<'_>,
    cap: usize,
) -> Result<Vec<u8>, axum::extract::multipart::MultipartError> {
    let mut kept = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        let room = (cap + 1).saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if kept.len() > cap {
            break;
        }
    }
    Ok(kept)
}

/// The form as `multipart/form-data` (what the page sends) or URL-encoded (a form posted from
/// a page served before evidence could be attached, or by a script).
async fn read_submission(req: Request) -> Result<AppealSubmission, Unreadable> {
    let multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let mut sub = AppealSubmission::default();
    if !multipart {
        // The page's textarea holds 500 characters: a larger plain form is not from it.
        let body = axum::body::to_bytes(req.into_body(), PLAIN_FORM_MAX_BYTES)
            .await
            .map_err(|_| Unreadable::Malformed)?;
        let f: AppealForm =
            serde_urlencoded::from_bytes(&body).map_err(|_| Unreadable::Malformed)?;
        sub.reason = f.reason;
        sub.code = f.code;
        sub.cnic = f.cnic;
        return Ok(sub);
    }
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|_| Unreadable::Malformed)?;
    let problem = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Unreadable::TooLarge
        } else {
            Unreadable::Malformed
        }
    };
    while let Some(mut field) = form.next_field().await.map_err(problem)? {
        match field.name() {
            Some("reason") => {
                let b = read_capped(&mut field, REASON_MAX_BYTES)
                    .await
                    .map_err(problem)?;
                sub.reason_too_long = b.len() > REASON_MAX_BYTES;
                sub.reason = String::from_utf8_lossy(&b).into_owned();
            }
            Some(name @ ("code" | "cnic")) => {
                let short = name == "code";
                let b = read_capped(&mut field, 32).await.map_err(problem)?;
                let text = String::from_utf8_lossy(&b).into_owned();
                if short {
                    sub.code = text;
                } else {
                    sub.cnic = text;
                }
            }
            // The first file only: the form has one file input.
            Some("evidence") if sub.file.is_none() => {
                // Older browsers send the whole path; the API refuses slashes in names.
                let name = field
                    .file_name()
                    .unwrap_or_default()
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let ctype = field.content_type().unwrap_or_default().to_string();
                let bytes = read_capped(&mut field, appeals_c::MAX_UPLOAD_BYTES)
                    .await
                    .map_err(problem)?;
                // A file input left empty is sent as a part with no name and no bytes.
                if !name.is_empty() || !bytes.is_empty() {
                    sub.file = Some((name, ctype, bytes));
                }
            }
            _ => {}
        }
    }
    Ok(sub)
}

/// `POST /c/{number}/appeal`: lodges the appeal with its optional evidence file (the same
/// checks and the same store call as the JSON API, rate-limited per address like it); the
/// surcharge clock stops until a supervisor decides. Any problem re-shows the form with the
/// reason as typed, and nothing is written.
pub async fn appeal_post(
    State(state): State<AppState>,
    lang: Lang,
    axum::Extension(crate::ratelimit::ClientAddr(client)): axum::Extension<
        crate::ratelimit::ClientAddr,
    >,
    Path(number): Path<String>,
    req: Request,
) -> Response {
    let Ok(n) = ChallanNumber::parse(&number) else {
        return see_other("/");
    };
    let here = format!("/c/{}/appeal", n);
    // A challan that cannot be contested today is answered before the form is read, in the
    // page's language.
    let d = match challan_or_page(&state, lang, &here, &n.to_string()).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Err(why) = d.contest() {
        return closed_page(lang, StatusCode::CONFLICT, &here, &n.to_string(), why);
    }
    let needed = match needed(&state, &n.to_string()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let again = |status: StatusCode, error: &str, reason: &str| {
        respond(
            status,
            shell::page(
                lang,
                &here,
                tr(lang, "appeal.title"),
                appeal_form(
                    lang,
                    &n.to_string(),
                    &needed,
                    Said {
                        error: Some(error),
                        notice: None,
                    },
                    reason,
                ),
            ),
        )
    };
    // An appeal stops the surcharge clock and may carry a file: limited like the JSON route,
    // before the body is read.
    if state.lookup_limiter.check(client).is_err() {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "portal.too_many"),
            "",
        );
    }
    let sub = match read_submission(req).await {
        Ok(s) => s,
        Err(Unreadable::TooLarge) => {
            return again(
                StatusCode::PAYLOAD_TOO_LARGE,
                tr(lang, "appeal.evidence_size"),
                "",
            )
        }
        Err(Unreadable::Malformed) => {
            return again(StatusCode::BAD_REQUEST, tr(lang, "appeal.unreadable"), "")
        }
    };
    let typed = if sub.reason_too_long {
        ""
    } else {
        sub.reason.as_str()
    };
    let reason = match text_field("reason", &sub.reason) {
        Ok(r) if !sub.reason_too_long => r,
        _ => {
            return again(
                StatusCode::UNPROCESSABLE_ENTITY,
                tr(lang, "appeal.reason_hint"),
                typed,
            )
        }
    };
    let evidence = match sub.file {
        None => None,
        // The declared type is not passed on: the content decides.
        Some((name, _declared, bytes)) => match appeals_c::prepare_evidence(&name, bytes).await {
            Ok(e) => Some(e),
            Err(p) => {
                let msg = match p {
                    EvidenceProblem::FileName => "appeal.evidence_name",
                    EvidenceProblem::ContentType => "appeal.evidence_type",
                    EvidenceProblem::Size => "appeal.evidence_size",
                };
                return again(StatusCode::UNPROCESSABLE_ENTITY, tr(lang, msg), typed);
            }
        },
    };
    let proof = match appeals_c::parse_proof(Some(&sub.code), Some(&sub.cnic)) {
        Ok(p) => p,
        Err(e) => {
            let key = if e.field.as_deref() == Some("cnic") {
                "appealproof.cnic_invalid"
            } else {
                "appealproof.code_invalid"
            };
            return again(StatusCode::UNPROCESSABLE_ENTITY, tr(lang, key), typed);
        }
    };
    super::common::remember_language(&state, &n, lang).await;
    match appeals_c::lodge_with_proof(&state, n.clone(), reason.clone(), evidence, proof).await {
        Ok(Err(refused)) => {
            let status = appeals_c::proof_error(refused.clone()).status;
            again(status, &proof_message(lang, &refused), &reason)
        }
        Ok(Ok(_)) => {
            // The appeal's own page, as it will look from now on, with how the citizen hears.
            let d = match challan_or_page(&state, lang, &here, &n.to_string()).await {
                Ok(d) => d,
                Err(r) => return r,
            };
            let Some(a) = &d.appeal else {
                return see_other(&here);
            };
            respond(
                StatusCode::CREATED,
                shell::page(
                    lang,
                    &here,
                    tr(lang, "appeal.lodged"),
                    html! {
                        p class="ok" id="appeal-lodged" {
                            (trf_html(lang, "appeal.lodged_body", &[
                                ("id", html! { (i18n::digits(lang, &a.id.to_string())) }),
                                ("challan", ltr(&a.challan_number)),
                            ]))
                        }
                        (appeal_page(lang, &d, a, true))
                    },
                ),
            )
        }
        Err(e)
            if !e.status.is_server_error()
                && ContestClosed::from_code(&e.code, d.appeal_last_day).is_some() =>
        {
            let why = ContestClosed::from_code(&e.code, d.appeal_last_day)
                .unwrap_or(ContestClosed::Appealed);
            closed_page(lang, e.status, &here, &n.to_string(), why)
        }
        Err(e) => {
            if e.status.is_server_error() {
                return e.into_response();
            }
            again(e.status, &e.message, &reason)
        }
    }
}
