use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::views::{challan_document, receipt_document};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use efine_core::ChallanNumber;
use efine_docs::{ChallanDocument, Paper, ReceiptDocument};
use efine_store::ops::{catalogue, challans, payments};
use serde::Deserialize;

/// Finds the challan and assembles what its documents show (personal data masked: these URLs
/// are public, like `/api/v1/public/challans/{n}`).
async fn document(state: &AppState, number: &str) -> ApiResult<ChallanDocument> {
    let number =
        ChallanNumber::parse(number).map_err(|e| ApiError::invalid("challan_number", e.0))?;
    let found = state
        .store
        .read(move |tx| match challans::by_number(tx, &number)? {
            Some(c) => {
                let names = catalogue::names_for(tx, &c)?;
                Ok(Some((c, names)))
            }
            None => Ok(None),
        })
        .await?;
    let (c, names) = found.ok_or_else(|| ApiError::not_found("challan"))?;
    let token = state.keys.current().signer.sign_challan(&c);
    let url = crate::verify::verify_url(state, &token);
    let mut doc = challan_document(&c, names, url);
    // The same Raast QR as the pay page: the amount due today, and the due date with the
    // amount after it.
    if c.status == efine_core::ChallanStatus::Unpaid {
        let today = crate::views::today(state.store.now());
        let due = c.terms().effective_due_date();
        doc.raast_qr = efine_service::raast::qr_payload(
            &state.ctx,
            &c.psid,
            &c.number.to_string(),
            c.amount_due(today),
            Some((due, c.amount_after_due_date())),
        );
    }
    Ok(doc)
}

fn bytes(content_type: &'static str, filename: String, body: Vec<u8>) -> Response {
    let mut resp = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{filename}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PaperQuery {
    /// `a4` (default) or `58mm` (receipt roll).
    paper: Option<String>,
}

impl PaperQuery {
    fn paper(&self) -> ApiResult<Paper> {
        match self.paper.as_deref() {
            None => Ok(Paper::A4),
            Some(p) => {
                Paper::parse(p).ok_or_else(|| ApiError::invalid("paper", "paper is a4 or 58mm"))
            }
        }
    }
}

/// The challan as a PDF in English and Urdu with its signed QR code, amounts, due date, surcharge
/// date and how to pay with the PSID.
#[utoipa::path(get, path = "/challans/{challan_number}/receipt.pdf", tag = "documents",
    params(("challan_number" = String, Path, description = "e.g. TRF-PSH-2026-004219"), PaperQuery),
    responses(
        (status = 200, description = "the PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "no such challan", body = ErrorBody),
        (status = 422, description = "not a challan number, or an unknown paper size", body = ErrorBody),
    ))]
pub async fn challan_pdf(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(q): Query<PaperQuery>,
) -> ApiResult<Response> {
    let paper = q.paper()?;
    let doc = document(&state, &number).await?;
    let name = format!("{}.pdf", doc.challan_number);
    let pdf = tokio::task::spawn_blocking(move || efine_docs::challan_pdf(&doc, paper))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(bytes("application/pdf", name, pdf))
}

/// The challan as an ESC/POS byte stream for a 58 mm thermal printer: initialise, text, the
/// printer's own QR command, cut. The officer's app sends it to the printer as it is.
#[utoipa::path(get, path = "/challans/{challan_number}/receipt.escpos", tag = "documents",
    params(("challan_number" = String, Path, description = "e.g. TRF-PSH-2026-004219")),
    responses(
        (status = 200, description = "ESC/POS bytes", content_type = "application/vnd.escpos", body = Vec<u8>),
        (status = 404, description = "no such challan", body = ErrorBody),
        (status = 422, description = "not a challan number", body = ErrorBody),
    ))]
pub async fn challan_escpos(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult<Response> {
    let doc = document(&state, &number).await?;
    let name = format!("{}.bin", doc.challan_number);
    Ok(bytes(
        "application/vnd.escpos",
        name,
        efine_docs::escpos::challan(&doc),
    ))
}

/// Finds a receipt and assembles what its documents show, with a signed receipt QR code.
async fn receipt(state: &AppState, number: &str) -> ApiResult<ReceiptDocument> {
    let number = number.trim().to_ascii_uppercase();
    let well_formed = number.len() <= 32
        && number.starts_with("RCT-")
        && number
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if !well_formed {
        return Err(ApiError::invalid(
            "receipt_number",
            "a receipt number looks like RCT-2026-0000123",
        ));
    }
    let found = state
        .store
        .read(move |tx| {
            let Some(r) = payments::receipt_by_number(tx, &number)? else {
                return Ok(None);
            };
            let n = ChallanNumber::parse(&r.challan_number)?;
            let Some(c) = challans::by_number(tx, &n)? else {
                return Ok(None);
            };
            let names = catalogue::names_for(tx, &c)?;
            Ok(Some((r, c, names)))
        })
        .await?;
    let (r, c, names) = found.ok_or_else(|| ApiError::not_found("receipt"))?;
    let token = state
        .keys
        .current()
        .signer
        .sign_receipt(&r.number, r.amount, &c.department, &c.district, r.paid_at)
        .map_err(ApiError::internal)?;
    let url = crate::verify::verify_url(state, &token);
    Ok(receipt_document(&r, &c, names, url))
}

/// A payment receipt as a PDF in English and Urdu, with its signed QR code.
#[utoipa::path(get, path = "/payments/{receipt_number}/receipt.pdf", tag = "documents",
    params(("receipt_number" = String, Path, description = "e.g. RCT-2026-0000123"), PaperQuery),
    responses(
        (status = 200, description = "the PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "no such receipt", body = ErrorBody),
        (status = 422, description = "not a receipt number, or an unknown paper size", body = ErrorBody),
    ))]
pub async fn receipt_pdf(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(q): Query<PaperQuery>,
) -> ApiResult<Response> {
    let paper = q.paper()?;
    let doc = receipt(&state, &number).await?;
    let name = format!("{}.pdf", doc.receipt_number);
    let pdf = tokio::task::spawn_blocking(move || efine_docs::receipt_pdf(&doc, paper))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(bytes("application/pdf", name, pdf))
}

/// A payment receipt as an ESC/POS byte stream for a 58 mm thermal printer.
#[utoipa::path(get, path = "/payments/{receipt_number}/receipt.escpos", tag = "documents",
    params(("receipt_number" = String, Path, description = "e.g. RCT-2026-0000123")),
    responses(
        (status = 200, description = "ESC/POS bytes", content_type = "application/vnd.escpos", body = Vec<u8>),
        (status = 404, description = "no such receipt", body = ErrorBody),
        (status = 422, description = "not a receipt number", body = ErrorBody),
    ))]
pub async fn receipt_escpos(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult<Response> {
    let doc = receipt(&state, &number).await?;
    let name = format!("{}.bin", doc.receipt_number);
    Ok(bytes(
        "application/vnd.escpos",
        name,
        efine_docs::escpos::receipt(&doc),
    ))
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(challan_pdf))
        .routes(routes!(challan_escpos))
        .routes(routes!(receipt_pdf))
        .routes(routes!(receipt_escpos))
}
