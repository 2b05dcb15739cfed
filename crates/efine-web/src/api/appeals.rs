//! Appeals: citizens contest a challan (with optional evidence); a supervisor of the department
//! other than the issuing officer decides.

use crate::api::cancellations::{status_filter, text_field, ListQuery};
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::views::rfc3339;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use efine_core::auth::{Action, Scope};
use efine_core::penalty::AppealOutcome;
use efine_core::text::TextKind;
use efine_core::{ChallanNumber, Money};
use efine_store::ops::appeals::{self, Appeal, Evidence, MAX_EVIDENCE_BYTES};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Evidence file types accepted: photos and PDF documents.
pub const EVIDENCE_TYPES: &[&str] = &["image/jpeg", "image/png", "application/pdf"];

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceView {
    pub file_name: String,
    pub content_type: String,
    /// SHA-256 of the file as received, hex.
    pub sha256: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealView {
    pub id: i64,
    pub challan_number: String,
    pub department: String,
    pub district: String,
    pub reason: String,
    pub evidence: Option<EvidenceView>,
    pub lodged_at: String,
    /// `pending` or `decided`.
    pub status: String,
    /// `uphold`, `reduce` or `quash`, once decided.
    pub outcome: Option<String>,
    /// The reduced amount in paisa (outcome `reduce`).
    pub reduced_amount: Option<i64>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

impl From<Appeal> for AppealView {
    fn from(a: Appeal) -> Self {
        let evidence = match (a.evidence_name, a.evidence_type, a.evidence_sha256) {
            (Some(file_name), Some(content_type), Some(sha256)) => Some(EvidenceView {
                file_name,
                content_type,
                sha256,
            }),
            _ => None,
        };
        AppealView {
            id: a.id,
            challan_number: a.challan_number,
            department: a.department,
            district: a.district,
            reason: a.reason,
            evidence,
            lodged_at: rfc3339(a.lodged_at),
            status: a.status.as_str().into(),
            outcome: a.outcome.map(|o| o.as_str().to_string()),
            reduced_amount: a.decided_amount.map(|m| m.paisa()),
            decided_by: a.decided_by,
            decided_at: a.decided_at.map(rfc3339),
        }
    }
}

/// What a citizen is told after lodging: the appeal's number and that the clock has stopped.
#[derive(Debug, Serialize, ToSchema)]
pub struct LodgedAppealView {
    pub appeal_id: i64,
    pub challan_number: String,
    pub status: String,
    pub lodged_at: String,
    /// SHA-256 of the evidence file received, if one was sent.
    pub evidence_sha256: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealDecisionView {
    pub appeal: AppealView,
    /// What the challan costs today after the decision (0 when quashed).
    pub amount_due: i64,
    pub amount_due_display: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealsView {
    pub appeals: Vec<AppealView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceUpload {
    pub file_name: String,
    /// What the uploader says the file is (`image/jpeg`, `image/png` or `application/pdf`).
    /// Not trusted: the file's content decides its type.
    pub content_type: String,
    /// The file, base64 (standard alphabet); at most 1 MiB once decoded.
    pub data_base64: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealRequest {
    /// Why the challan is contested (1 to 500 characters).
    pub reason: String,
    pub evidence: Option<EvidenceUpload>,
    /// The 6-digit code sent by SMS to the challan's mobile
    /// (`POST /api/v1/public/challans/{challan_number}/appeals/code`): required when the
    /// challan has a mobile. Void after 5 wrong tries; valid for 10 minutes.
    pub code: Option<String>,
    /// The CNIC on the challan: the proof when the challan has no mobile to send a code to.
    /// Compared, never echoed.
    pub cnic: Option<String>,
}

/// Where the appeal code went.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealCodeView {
    pub challan_number: String,
    /// The mobile it was sent to, masked.
    pub sent_to: String,
    /// Until when the code works (RFC 3339).
    pub expires_at: String,
    pub message: String,
}

/// A proof refused: 422 naming the field (`code` or `cnic`), 429 when the challan is locked
/// for the day, 409 when no proof is possible online.
pub fn proof_error(e: efine_core::appeal_proof::ProofError) -> ApiError {
    use efine_core::appeal_proof::ProofError as P;
    let status = match e {
        P::CnicLocked => StatusCode::TOO_MANY_REQUESTS,
        P::NoProofPossible => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, e.code(), e.to_string()).field(e.field())
}

/// Sends a one-time appeal code to the challan's mobile through the notification outbox (the
/// worker delivers it within seconds). Shared by the JSON API and the portal.
pub async fn send_code(
    state: &AppState,
    number: ChallanNumber,
) -> ApiResult<Result<efine_store::ops::appeal_proof::CodeSent, efine_core::appeal_proof::NotNow>> {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    let code = efine_core::appeal_proof::Code::from_number(rng.gen_range(0..1_000_000));
    let salt = hex::encode(rng.gen::<[u8; 16]>());
    let texts = state.texts.clone();
    let now = state.store.now();
    let sent = state
        .store
        .write(move |tx| {
            efine_store::ops::appeal_proof::send_code(tx, &texts, &number, &code, &salt, now)
        })
        .await?;
    Ok(sent)
}

/// A code refused for now: 429.
pub fn not_now(e: efine_core::appeal_proof::NotNow) -> ApiError {
    match e {
        efine_core::appeal_proof::NotNow::TooSoon { wait_seconds } => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "code_too_soon",
            format!("a code was sent less than a minute ago: wait {wait_seconds} seconds"),
        ),
        efine_core::appeal_proof::NotNow::TooMany => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_codes",
            "this challan has been sent as many codes as allowed today: try again tomorrow",
        ),
    }
}

/// What proves the appeal comes from the person charged, parsed from what was typed.
pub fn parse_proof(
    code: Option<&str>,
    cnic: Option<&str>,
) -> ApiResult<efine_store::ops::appeal_proof::Proof> {
    fn present(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    Ok(efine_store::ops::appeal_proof::Proof {
        code: present(code)
            .map(efine_core::appeal_proof::Code::parse)
            .transpose()
            .map_err(|e| {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", e.0).field("code")
            })?,
        // Never echoed: the message says what a CNIC looks like, not what was sent.
        cnic: present(cnic)
            .map(efine_core::Cnic::parse)
            .transpose()
            .map_err(|_| ApiError::invalid("cnic", "a CNIC is 13 digits, e.g. 17301-1234567-1"))?,
    })
}

/// Checks the proof and lodges the appeal in one write: a wrong code or CNIC is counted and
/// nothing else written; a lodging refused (window closed, already appealed) leaves the code
/// unused. Shared by the JSON API and the portal.
pub async fn lodge_with_proof(
    state: &AppState,
    number: ChallanNumber,
    reason: String,
    evidence: Option<Evidence>,
    proof: efine_store::ops::appeal_proof::Proof,
) -> ApiResult<Result<Appeal, efine_core::appeal_proof::ProofError>> {
    use efine_store::ops::appeal_proof;
    let window = state.config.appeal_window_days;
    let now = state.store.now();
    let lodged = state
        .store
        .write(move |tx| {
            let accepted = match appeal_proof::check(tx, &number, &proof, now)? {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            let a = appeals::lodge(tx, &number, &reason, evidence.as_ref(), window, now)?;
            appeal_proof::consume(tx, &accepted, now)?;
            Ok(Ok(a))
        })
        .await?;
    Ok(lodged)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionRequest {
    pub outcome: Outcome,
    /// The reduced amount in paisa: only, and required, with `reduce`.
    pub amount: Option<i64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Uphold,
    Reduce,
    Quash,
}

impl From<Outcome> for AppealOutcome {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Uphold => AppealOutcome::Uphold,
            Outcome::Reduce => AppealOutcome::Reduce,
            Outcome::Quash => AppealOutcome::Quash,
        }
    }
}

/// Why an evidence file is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceProblem {
    /// The file name is empty, longer than 200 characters, has a slash, a control character or
    /// a bidirectional override.
    FileName,
    /// The content is not one of [`EVIDENCE_TYPES`] (by its first bytes).
    ContentType,
    /// Empty, or larger than [`MAX_EVIDENCE_BYTES`].
    Size,
}

impl EvidenceProblem {
    /// The JSON API's error for this problem (fields named as in [`EvidenceUpload`]).
    fn api_error(self) -> ApiError {
        match self {
            EvidenceProblem::FileName => ApiError::invalid(
                "evidence.file_name",
                "give a file name of 1 to 200 characters, without slashes, control characters \
                 or bidirectional overrides",
            ),
            EvidenceProblem::ContentType => ApiError::invalid(
                "evidence.data_base64",
                "the evidence file must be a JPEG or PNG photo or a PDF document (its content \
                 decides, not its declared type)",
            ),
            EvidenceProblem::Size => ApiError::invalid(
                "evidence.data_base64",
                "the evidence file must be between 1 byte and 1 MiB",
            ),
        }
    }
}

/// The type of an evidence file, from its first bytes (its "magic number"): JPEG (`FF D8 FF`),
/// PNG (the eight-byte PNG signature) or PDF (`%PDF-`). Anything else, whatever it calls
/// itself, is `None`: an HTML page named `photo.png` is not a photo.
pub fn sniff_evidence_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// The file extension that goes with an evidence type, for the download's file name.
fn evidence_extension(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

/// The file name of an evidence file (trimmed), if acceptable: one line, no bidirectional
/// override, no slash, 1 to 200 characters.
pub fn evidence_name(file_name: &str) -> Result<String, EvidenceProblem> {
    let file_name = efine_core::text::FreeText::parse("file_name", file_name, TextKind::Name, 200)
        .map_err(|_| EvidenceProblem::FileName)?
        .into_string();
    if file_name.contains(['/', '\\']) {
        return Err(EvidenceProblem::FileName);
    }
    Ok(file_name)
}

/// The checks every evidence file passes, whether it comes base64 in the JSON API or as a file
/// from the portal's appeal form: its name ([`evidence_name`]), its size (1 byte to
/// [`MAX_EVIDENCE_BYTES`]) and its content, which must be one of [`EVIDENCE_TYPES`] by its
/// first bytes ([`sniff_evidence_type`]). The declared type is not trusted: the stored type is
/// the one the content shows. This is the one place evidence is checked; a later step (photo
/// shrinking, a larger limit) belongs here too.
pub fn check_evidence(file_name: &str, bytes: Vec<u8>) -> Result<Evidence, EvidenceProblem> {
    let file_name = evidence_name(file_name)?;
    if bytes.is_empty() || bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(EvidenceProblem::Size);
    }
    let content_type = sniff_evidence_type(&bytes).ok_or(EvidenceProblem::ContentType)?;
    Ok(Evidence {
        file_name,
        content_type: content_type.to_string(),
        bytes,
    })
}

/// The largest file the portal's appeal form takes: a phone photo of a few MB is shrunk on the
/// server before it is stored (the stored file stays within [`MAX_EVIDENCE_BYTES`]).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// The longest side, in pixels, of a photo as stored: enough to read a plate or a sign.
const PHOTO_MAX_SIDE: u32 = 1600;

/// An evidence file from the portal's form (up to [`MAX_UPLOAD_BYTES`]), ready to store: a
/// photo larger than [`MAX_EVIDENCE_BYTES`] or than [`PHOTO_MAX_SIDE`] pixels on a side is
/// turned upright, scaled down and stored as a JPEG (which also drops its metadata, such as
/// where it was taken); a smaller photo or a PDF is checked as it is by [`check_evidence`].
/// The decoding runs off the async workers.
pub async fn prepare_evidence(
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Evidence, EvidenceProblem> {
    let name = evidence_name(file_name)?;
    if bytes.is_empty() || bytes.len() > MAX_UPLOAD_BYTES {
        return Err(EvidenceProblem::Size);
    }
    let kind = sniff_evidence_type(&bytes).ok_or(EvidenceProblem::ContentType)?;
    if kind == "application/pdf" {
        return check_evidence(&name, bytes);
    }
    let small = bytes.len() <= MAX_EVIDENCE_BYTES;
    let (bytes, shrunk) = tokio::task::spawn_blocking(move || {
        let shrunk = shrink_photo(&bytes, small);
        (bytes, shrunk)
    })
    .await
    .map_err(|_| EvidenceProblem::Size)?;
    match shrunk {
        Shrunk::AsIs => check_evidence(&name, bytes),
        Shrunk::Jpeg(jpeg) => {
            let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
            check_evidence(&format!("{stem}.jpg"), jpeg)
        }
        // A small file that is not a decodable photo is kept as sent (as it always was); a
        // large one cannot be made small.
        Shrunk::Unreadable if small => check_evidence(&name, bytes),
        Shrunk::Unreadable => Err(EvidenceProblem::ContentType),
        Shrunk::TooLarge => Err(EvidenceProblem::Size),
    }
}

enum Shrunk {
    /// Small enough in bytes and in pixels: stored as sent.
    AsIs,
    Jpeg(Vec<u8>),
    Unreadable,
    /// Still over the limit at the lowest size and quality tried.
    TooLarge,
}

fn shrink_photo(bytes: &[u8], small: bool) -> Shrunk {
    use image::ImageDecoder;
    let Ok(reader) = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()
    else {
        return Shrunk::Unreadable;
    };
    let mut reader = reader;
    // A file of a few MB can claim a huge canvas: refuse what would need over 256 MB.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let Ok(mut decoder) = reader.into_decoder() else {
        return Shrunk::Unreadable;
    };
    let (w, h) = decoder.dimensions();
    if small && w <= PHOTO_MAX_SIDE && h <= PHOTO_MAX_SIDE {
        return Shrunk::AsIs;
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let Ok(mut img) = image::DynamicImage::from_decoder(decoder) else {
        return Shrunk::Unreadable;
    };
    img.apply_orientation(orientation);
    for (side, quality) in [
        (PHOTO_MAX_SIDE, 80),
        (PHOTO_MAX_SIDE, 60),
        (1200, 60),
        (1024, 50),
    ] {
        let scaled = if img.width() > side || img.height() > side {
            img.resize(side, side, image::imageops::FilterType::Triangle)
        } else {
            img.clone()
        };
        let mut out = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
        if scaled.to_rgb8().write_with_encoder(encoder).is_err() {
            return Shrunk::Unreadable;
        }
        if out.len() <= MAX_EVIDENCE_BYTES {
            return Shrunk::Jpeg(out);
        }
    }
    Shrunk::TooLarge
}

fn evidence(e: EvidenceUpload) -> ApiResult<Evidence> {
    use base64::Engine;
    // The name first, so a bad name is reported before the data is decoded. The declared
    // content type is not used: the content decides.
    evidence_name(&e.file_name).map_err(EvidenceProblem::api_error)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(e.data_base64.trim())
        .map_err(|_| ApiError::invalid("evidence.data_base64", "not valid base64"))?;
    check_evidence(&e.file_name, bytes).map_err(EvidenceProblem::api_error)
}

/// Contests a challan (the person charged), within the appeal window counted from the issue
/// day. While the appeal is open the surcharge clock stands still. The appeal carries a proof:
/// the `code` sent to the challan's mobile, or, for a challan without a mobile, the `cnic` on
/// it.
#[utoipa::path(post, path = "/api/v1/public/challans/{challan_number}/appeals", tag = "public",
    params(("challan_number" = String, Path)),
    request_body = AppealRequest,
    responses(
        (status = 201, body = LodgedAppealView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`appeal_window_closed`, `appeal_exists`, `challan_paid`, `challan_cancelled`, `no_proof_possible` (no mobile and no CNIC on the challan)", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "a field is wrong; the proof: `code_required`, `code_wrong`, `code_expired`, `code_void` (field `code`), `cnic_required`, `cnic_wrong` (field `cnic`)", body = ErrorBody),
        (status = 429, description = "`rate_limited` (this address), `cnic_locked` (too many wrong CNICs for this challan today)", body = ErrorBody),
    ))]
pub async fn lodge_appeal(
    State(state): State<AppState>,
    axum::Extension(crate::ratelimit::ClientAddr(client)): axum::Extension<
        crate::ratelimit::ClientAddr,
    >,
    Path(number): Path<String>,
    body: ApiJson<AppealRequest>,
) -> ApiResult<(StatusCode, Json<LodgedAppealView>)> {
    // Anyone may appeal (the challan number is on the paper), and an appeal stops the surcharge
    // clock: limited per client address like the public lookups.
    rate_limit(&state, client)?;
    let number =
        ChallanNumber::parse(&number).map_err(|e| ApiError::invalid("challan_number", e.0))?;
    let AppealRequest {
        reason,
        evidence: ev,
        code,
        cnic,
    } = body.value;
    let reason = text_field("reason", &reason)?;
    let ev = ev.map(evidence).transpose()?;
    let proof = parse_proof(code.as_deref(), cnic.as_deref())?;
    let a = lodge_with_proof(&state, number, reason, ev, proof)
        .await?
        .map_err(proof_error)?;
    Ok((
        StatusCode::CREATED,
        Json(LodgedAppealView {
            appeal_id: a.id,
            challan_number: a.challan_number.clone(),
            status: a.status.as_str().into(),
            lodged_at: rfc3339(a.lodged_at),
            evidence_sha256: a.evidence_sha256,
            message: format!(
                "Appeal {} against {} is lodged. No surcharge accrues until it is decided.",
                a.id, a.challan_number
            ),
        }),
    ))
}

/// Appeals and appeal codes are limited per client address (behind trusted proxies, the real
/// client's) like the public lookups, besides the limits per challan.
fn rate_limit(state: &AppState, client: std::net::IpAddr) -> ApiResult<()> {
    if state.lookup_limiter.check(client).is_err() {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests from your address; please wait a minute",
        ));
    }
    Ok(())
}

/// Sends a one-time code to the challan's mobile (SMS, through the notification outbox), to
/// be given with the appeal as `code`. At most 5 codes a day per challan, a minute apart;
/// each works for 10 minutes and is void after 5 wrong tries. A challan without a mobile is
/// 409 `no_mobile`: its appeal carries the CNIC on the challan instead.
#[utoipa::path(post, path = "/api/v1/public/challans/{challan_number}/appeals/code", tag = "public",
    params(("challan_number" = String, Path)),
    responses(
        (status = 202, description = "the code is on its way", body = AppealCodeView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`no_mobile` (give the CNIC with the appeal), `challan_paid`, `challan_cancelled`", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "`rate_limited` (this address), `code_too_soon`, `too_many_codes` (this challan)", body = ErrorBody),
    ))]
pub async fn request_appeal_code(
    State(state): State<AppState>,
    axum::Extension(crate::ratelimit::ClientAddr(client)): axum::Extension<
        crate::ratelimit::ClientAddr,
    >,
    Path(number): Path<String>,
) -> ApiResult<(StatusCode, Json<AppealCodeView>)> {
    rate_limit(&state, client)?;
    let number =
        ChallanNumber::parse(&number).map_err(|e| ApiError::invalid("challan_number", e.0))?;
    let sent = send_code(&state, number).await?.map_err(not_now)?;
    let masked = efine_core::MobileNumber::parse(&sent.to)
        .map(|m| efine_core::mask::mobile(&m))
        .unwrap_or_else(|_| "***".into());
    Ok((
        StatusCode::ACCEPTED,
        Json(AppealCodeView {
            challan_number: sent.challan_number.clone(),
            message: format!(
                "A code for appealing against {} is on its way to {masked} by SMS. It works for 10 minutes.",
                sent.challan_number
            ),
            sent_to: masked,
            expires_at: rfc3339(sent.expires_at),
        }),
    ))
}

/// Appeals in the caller's scope, newest first (`?status=pending` for the queue).
#[utoipa::path(get, path = "/api/v1/appeals", tag = "challans",
    params(ListQuery),
    responses((status = 200, body = AppealsView), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_appeals(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<AppealsView>> {
    let status = status_filter(&q, &["pending", "decided", "closed"])?;
    let list = state
        .store
        .read(move |tx| appeals::list(tx, &who, status.as_deref(), 500))
        .await?;
    Ok(Json(AppealsView {
        appeals: list.into_iter().map(Into::into).collect(),
    }))
}

/// Decides an appeal: a supervisor of the department who did not issue the challan. `reduce`
/// needs `amount` (paisa, less than the amount); `quash` cancels the challan.
#[utoipa::path(post, path = "/api/v1/appeals/{id}/decision", tag = "challans",
    params(("id" = i64, Path)),
    request_body = AppealDecisionRequest,
    responses(
        (status = 200, body = AppealDecisionView),
        (status = 403, description = "`issuing_officer`, `not_a_supervisor`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`appeal_decided`, `challan_paid`, `challan_cancelled`", body = ErrorBody),
        (status = 422, description = "bad outcome or amount", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn decide_appeal(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiPath(id): ApiPath<i64>,
    body: ApiJson<AppealDecisionRequest>,
) -> ApiResult<Json<AppealDecisionView>> {
    let AppealDecisionRequest {
        outcome,
        amount,
        note,
    } = body.value;
    let amount = amount
        .map(|p| Money::from_paisa(p).map_err(|e| ApiError::invalid("amount", e.0)))
        .transpose()?;
    let note = note.map(|n| text_field("note", &n)).transpose()?;
    let outcome = AppealOutcome::from(outcome);
    let now = state.store.now();
    let (a, due) = state
        .store
        .write(move |tx| appeals::decide(tx, &who, id, outcome, amount, note.as_deref(), now))
        .await?;
    Ok(Json(AppealDecisionView {
        appeal: a.into(),
        amount_due: due.paisa(),
        amount_due_display: due.to_string(),
    }))
}

/// The evidence file of an appeal (staff in scope).
#[utoipa::path(get, path = "/api/v1/appeals/{id}/evidence", tag = "challans",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "the file as uploaded", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_appeal_evidence(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let found = state
        .store
        .read(move |tx| {
            let Some(a) = appeals::by_id(tx, id)? else {
                return Ok(None);
            };
            let (Ok(dep), Ok(dis)) = (
                efine_core::DepartmentCode::parse(&a.department),
                efine_core::DistrictCode::parse(&a.district),
            ) else {
                return Ok(None);
            };
            if who
                .may(Action::ReadChallan, &Scope::of(&dep, &dis))
                .is_err()
            {
                return Ok(None);
            }
            appeals::evidence(tx, id)
        })
        .await?;
    let e = found.ok_or_else(|| ApiError::not_found("evidence"))?;
    Ok(evidence_download(id, e.bytes))
}

/// An evidence file as a download, for the API and the console alike. The type comes from the
/// content (files stored before content checks may be anything: those are served as bytes to
/// download), never from what the uploader declared; the download's name is ours, not the
/// uploader's; `nosniff` stops a browser from guessing a type of its own.
pub fn evidence_download(appeal_id: i64, bytes: Vec<u8>) -> Response {
    let ctype = sniff_evidence_type(&bytes).unwrap_or("application/octet-stream");
    let disposition = format!(
        "attachment; filename=\"appeal-{appeal_id}-evidence.{}\"",
        evidence_extension(ctype)
    );
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ctype)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// 1 MiB of evidence is about 1.4 MiB in base64, plus the rest of the body.
const APPEAL_BODY_LIMIT: usize = 1536 * 1024;

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(list_appeals))
        .routes(routes!(decide_appeal))
        .routes(routes!(get_appeal_evidence))
        // Appeals may carry an evidence file: a larger body limit on this route only.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(lodge_appeal))
                .routes(routes!(request_appeal_code))
                .layer(axum::extract::DefaultBodyLimit::max(APPEAL_BODY_LIMIT)),
        )
}
