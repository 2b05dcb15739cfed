//! Officers' devices: enrolment with a one-time code, and the sync of challans issued offline.
//! No bearer token: the code admits the phone's key once, and from then on every synced item
//! carries the device's signature (`efine_core::device`).

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::views::OffenceView;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use efine_store::ops::catalogue;
use efine_store::ops::devices::{self, Outcome, PhotoIn};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Items per sync request.
pub const MAX_ITEMS: usize = 50;
/// A sync carries photos: up to 3 per challan, compressed on the phone.
const SYNC_BODY_LIMIT: usize = 6 * 1024 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
pub struct EnrolRequest {
    /// The one-time code shown in the console (`1234-5678-9012`).
    pub code: String,
    /// The phone's Ed25519 public key: 32 bytes, base64url without padding.
    pub public_key: String,
}

/// What the phone keeps after enrolment.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolledView {
    /// `TRF-PSH-007`: the name of the device, and where its challan numbers come from.
    pub device: String,
    /// The device key's id, as in QR tokens and `/.well-known/efine-keys.json`.
    pub kid: String,
    pub officer: String,
    pub department: String,
    pub district: String,
    /// Challan numbers are `{department_abbr}-{district_abbr}-{year}-{seq}` with
    /// `seq = 900000000 + slot * 100000 + counter`.
    pub department_abbr: String,
    pub district_abbr: String,
    pub department_name_en: String,
    pub department_name_ur: String,
    pub district_name_en: String,
    pub district_name_ur: String,
    /// The catalogue's stable numbers, from which the phone derives each challan's PSID.
    pub department_number: u8,
    pub district_number: u8,
    pub slot: u16,
    pub valid_from: String,
    /// Changes whenever the department's schedule does: the phone refreshes its copy.
    pub catalogue_version: String,
    /// The department's schedule in force.
    pub offences: Vec<OffenceView>,
    /// Where QR codes point (`{public_url}/v/{token}`).
    pub public_url: String,
}

fn version_of(offences: &[OffenceView]) -> String {
    let mut h = Sha256::new();
    for o in offences {
        h.update(format!("{}:{}:{}\n", o.code, o.version, o.amount).as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

async fn catalogue_of(
    state: &AppState,
    department: efine_core::DepartmentCode,
) -> ApiResult<Vec<OffenceView>> {
    let list = state
        .store
        .read(move |tx| catalogue::offences(tx, Some(&department)))
        .await?;
    Ok(list.into_iter().map(Into::into).collect())
}

/// Enrols a phone for the officer the one-time code was made for. The phone made its own key;
/// only the public half is sent.
#[utoipa::path(post, path = "/api/v1/devices/enrol", tag = "devices",
    request_body = EnrolRequest,
    responses(
        (status = 201, body = EnrolledView),
        (status = 400, description = "malformed JSON", body = ErrorBody),
        (status = 422, description = "wrong, used or expired code; not a public key", body = ErrorBody),
    ))]
pub async fn enrol_device(
    State(state): State<AppState>,
    body: ApiJson<EnrolRequest>,
) -> ApiResult<Response> {
    let req = body.value;
    let key: [u8; 32] = URL_SAFE_NO_PAD
        .decode(req.public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::invalid("public_key", "32 bytes of base64url without padding"))?;
    let code = req.code;
    if code.chars().filter(char::is_ascii_digit).count() != 12 {
        return Err(ApiError::invalid("code", "the code is 12 digits"));
    }
    let now = state.store.now();
    let d = state
        .store
        .write(move |tx| devices::enrol(tx, &code, &key, now))
        .await?;
    let dep = d.department.clone();
    let dis = d.district.clone();
    let (department, district) = state
        .store
        .read(move |tx| {
            Ok((
                catalogue::department_by_code(tx, &dep)?,
                catalogue::district_by_code(tx, &dis)?,
            ))
        })
        .await?;
    let (department, district) = department
        .zip(district)
        .ok_or_else(|| ApiError::internal("the device's department or district is gone"))?;
    let offences = catalogue_of(&state, d.department.clone()).await?;
    let view = EnrolledView {
        device: d.id,
        kid: d.kid,
        officer: d.officer,
        department: d.department.to_string(),
        district: d.district.to_string(),
        department_abbr: department.abbr.to_string(),
        district_abbr: district.abbr.to_string(),
        department_name_en: department.name_en,
        department_name_ur: department.name_ur,
        district_name_en: district.name_en,
        district_name_ur: district.name_ur,
        department_number: department.number,
        district_number: district.number,
        slot: d.slot,
        valid_from: crate::views::rfc3339(d.valid_from),
        catalogue_version: version_of(&offences),
        offences,
        public_url: state.config.public_url.clone(),
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SyncPhoto {
    /// `image/jpeg`, `image/webp` or `image/png`.
    pub content_type: String,
    /// The bytes, standard base64; their SHA-256 is in the signed item.
    pub data: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SyncItem {
    /// The item's JSON text exactly as signed (`efine_core::device::Item`).
    pub body: String,
    /// Ed25519 by the device key over `efine-device-item-v1\0` and `body`; base64url.
    pub signature: String,
    #[serde(default)]
    pub photos: Vec<SyncPhoto>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SyncRequest {
    pub items: Vec<SyncItem>,
}

/// The answer for one item.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResultView {
    /// The item's counter, when it could be read.
    pub counter: Option<u32>,
    /// `accepted`, `already_had` or `refused`.
    pub status: String,
    pub number: Option<String>,
    pub psid: Option<String>,
    /// Why refused: `bad_signature`, `revoked`, `before_enrolment`, `in_future`,
    /// `counter_reused`, `wrong_number`, `token_mismatch`, `invalid`.
    pub code: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncView {
    pub results: Vec<SyncResultView>,
    /// The department's schedule version now; when it differs from the phone's, it refreshes.
    pub catalogue_version: String,
    /// Whether the device is revoked (the phone says so to the officer).
    pub revoked: bool,
}

fn counter_of(body: &str) -> Option<u32> {
    #[derive(Deserialize)]
    struct C {
        counter: u32,
    }
    serde_json::from_str::<C>(body).ok().map(|c| c.counter)
}

/// Syncs challans a device issued: one answer per item, in order. Idempotent per device and
/// counter: the same item again is `already_had`; another item under a used counter, an item
/// not signed by the device, or issued after the device was revoked, is `refused` with the
/// reason. Each item is its own transaction, so a sync cut halfway keeps what was answered.
#[utoipa::path(post, path = "/api/v1/devices/{device}/sync", tag = "devices",
    params(("device" = String, Path, description = "e.g. TRF-PSH-007")),
    request_body = SyncRequest,
    responses(
        (status = 200, body = SyncView),
        (status = 400, description = "malformed JSON", body = ErrorBody),
        (status = 404, description = "no such device", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 422, description = "too many items", body = ErrorBody),
    ))]
pub async fn sync_device(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: ApiJson<SyncRequest>,
) -> ApiResult<Json<SyncView>> {
    let items = body.value.items;
    if items.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            "items",
            format!("at most {MAX_ITEMS} items per sync"),
        ));
    }
    let lookup = id.clone();
    let device = state
        .store
        .read(move |tx| devices::by_id(tx, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found("device"))?;
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let counter = counter_of(&item.body);
        let Ok(signature) = URL_SAFE_NO_PAD.decode(item.signature.trim()) else {
            results.push(SyncResultView {
                counter,
                status: "refused".into(),
                number: None,
                psid: None,
                code: Some("bad_signature".into()),
                reason: Some("the signature is not base64url".into()),
            });
            continue;
        };
        let photos: Vec<PhotoIn> = item
            .photos
            .into_iter()
            .map(|p| PhotoIn {
                content_type: p.content_type,
                data_base64: p.data,
            })
            .collect();
        let now = state.store.now();
        let d = device.clone();
        let body = item.body;
        // Each item in its own write: what was answered is kept whatever happens next.
        let outcome = state
            .store
            .write(move |tx| {
                // The device row as it stands in this transaction (a revocation may have landed).
                let d = devices::by_id(tx, &d.id)?.unwrap_or(d);
                devices::sync_item(tx, &d, &body, &signature, &photos, now)
            })
            .await?;
        results.push(match outcome {
            Outcome::Accepted { number, psid } => SyncResultView {
                counter,
                status: "accepted".into(),
                number: Some(number.to_string()),
                psid: Some(psid.as_str().into()),
                code: None,
                reason: None,
            },
            Outcome::AlreadyHad { number, psid } => SyncResultView {
                counter,
                status: "already_had".into(),
                number: Some(number.to_string()),
                psid: Some(psid.as_str().into()),
                code: None,
                reason: None,
            },
            Outcome::Refused { code, reason } => SyncResultView {
                counter,
                status: "refused".into(),
                number: None,
                psid: None,
                code: Some(code.into()),
                reason: Some(reason),
            },
        });
    }
    let offences = catalogue_of(&state, device.department.clone()).await?;
    let revoked = state
        .store
        .read(move |tx| devices::by_id(tx, &id))
        .await?
        .is_some_and(|d| d.revoked_at.is_some());
    Ok(Json(SyncView {
        results,
        catalogue_version: version_of(&offences),
        revoked,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VehicleCheckRequest {
    /// JSON text `{"vehicle": "PES-1234", "at_ms": 1795000000000}`, exactly as signed.
    pub body: String,
    /// Ed25519 by the device key over `efine-device-check-v1\0` and `body`; base64url.
    pub signature: String,
}

#[derive(Deserialize)]
struct CheckBody {
    vehicle: String,
    at_ms: i64,
}

/// The checkpoint lookup from an officer's enrolled phone (online): the vehicle's unpaid
/// challans in every district, their total today and the enforcement stage. The request is
/// signed by the device key and fresh (5 minutes); a revoked device or an inactive officer is
/// refused. In the body, so the plate never lands in a URL or a log.
#[utoipa::path(post, path = "/api/v1/devices/{device}/vehicle-check", tag = "devices",
    params(("device" = String, Path, description = "e.g. TRF-PSH-007")),
    request_body = VehicleCheckRequest,
    responses(
        (status = 200, body = crate::api::vehicles::VehicleStatusView),
        (status = 401, description = "not signed by the device, stale, or the device revoked", body = ErrorBody),
        (status = 404, description = "no such device", body = ErrorBody),
        (status = 422, description = "not a vehicle number", body = ErrorBody),
    ))]
pub async fn check_vehicle_from_device(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: ApiJson<VehicleCheckRequest>,
) -> ApiResult<Json<crate::api::vehicles::VehicleStatusView>> {
    let req = body.value;
    let (device, active) = state
        .store
        .read(move |tx| {
            let Some(d) = devices::by_id(tx, &id)? else {
                return Ok(None);
            };
            let active = devices::officer_active(tx, d.officer_id)?;
            Ok(Some((d, active)))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("device"))?;
    let refused = |m: &str| ApiError::unauthorized(m);
    let signature = URL_SAFE_NO_PAD
        .decode(req.signature.trim())
        .map_err(|_| refused("the request is not signed by this device"))?;
    efine_core::device::verify_check(&device.verifying_key()?, req.body.as_bytes(), &signature)
        .map_err(|_| refused("the request is not signed by this device"))?;
    if device.revoked_at.is_some() || !active {
        return Err(refused(
            "this device is revoked, or its officer's account is not active",
        ));
    }
    let check: CheckBody = serde_json::from_str(&req.body)
        .map_err(|e| ApiError::invalid("body", format!("cannot be read: {e}")))?;
    let now_ms = state.store.now().unix_timestamp() * 1000;
    let fresh = efine_core::device::CHECK_FRESH.whole_milliseconds() as i64;
    if (check.at_ms - now_ms).abs() > fresh {
        return Err(refused("the request is stale: check the phone's clock"));
    }
    Ok(Json(
        crate::api::vehicles::status_view(&state, &check.vehicle).await?,
    ))
}

/// The department's schedule as the device caches it, with its version.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceCatalogueView {
    pub catalogue_version: String,
    pub offences: Vec<OffenceView>,
}

/// The schedule of the device's department in force, for the phone's cache.
#[utoipa::path(get, path = "/api/v1/devices/{device}/catalogue", tag = "devices",
    params(("device" = String, Path, description = "e.g. TRF-PSH-007")),
    responses(
        (status = 200, body = DeviceCatalogueView),
        (status = 404, description = "no such device", body = ErrorBody),
    ))]
pub async fn device_catalogue(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DeviceCatalogueView>> {
    let device = state
        .store
        .read(move |tx| devices::by_id(tx, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("device"))?;
    let offences = catalogue_of(&state, device.department).await?;
    Ok(Json(DeviceCatalogueView {
        catalogue_version: version_of(&offences),
        offences,
    }))
}

/// A photo taken with a challan. The id is 32 random hex digits, given only on the challan's own
/// page (never derived from the number), so it cannot be guessed.
#[utoipa::path(get, path = "/api/v1/public/photos/{photo_id}", tag = "public",
    params(("photo_id" = String, Path, description = "32 hex digits")),
    responses(
        (status = 200, description = "the image", content_type = "image/jpeg"),
        (status = 404, description = "no such photo", body = ErrorBody),
    ))]
pub async fn get_photo(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (content_type, bytes) = state
        .store
        .read(move |tx| devices::photo(tx, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("photo"))?;
    let ct = HeaderValue::from_str(&content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(enrol_device))
        .routes(routes!(device_catalogue))
        .routes(routes!(check_vehicle_from_device))
        .routes(routes!(get_photo))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(sync_device))
                .layer(axum::extract::DefaultBodyLimit::max(SYNC_BODY_LIMIT)),
        )
}
