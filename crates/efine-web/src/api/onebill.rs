//! The 1Bill biller API: bill inquiry and bill payment by consumer number (our PSID). Answers
//! always carry 1Bill's own response codes; HTTP status is 200 for every well-formed call, as
//! the rail expects. What an inquiry or a payment does is `efine_service::onebill`.

use crate::extract::ApiJson;
use crate::AppState;
use axum::extract::{ConnectInfo, State};
use axum::Json;
use efine_pay::onebill::{InquiryRequest, InquiryResponse, PaymentRequest, PaymentResponse};
use efine_service::onebill;
use std::net::SocketAddr;

/// Bill inquiry: what is owed on a consumer number.
#[utoipa::path(post, path = "/api/v1/1bill/bill-inquiry", tag = "1bill",
    request_body(content = Object, description = "1Bill inquiry: userName, password, consumerNumber, bankMnemonic, reserved"),
    responses((status = 200, description = "1Bill inquiry response (Response_Code 00 ok, 01 not found, 02 blocked, 04 invalid data or credentials, 05 failure)", body = Object)))]
pub async fn bill_inquiry(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: ApiJson<InquiryRequest>,
) -> Json<InquiryResponse> {
    Json(onebill::inquiry(&state.ctx, peer.ip(), body.value).await)
}

/// Bill payment: a bank took the full amount due for a consumer number. The same payment sent
/// again answers `03` and credits nothing.
#[utoipa::path(post, path = "/api/v1/1bill/bill-payment", tag = "1bill",
    request_body(content = Object, description = "1Bill payment: userName, password, consumer_number, tran_auth_id, transaction_amount, tran_date, tran_time, bank_mnemonic, Reserved"),
    responses((status = 200, description = "1Bill payment response (response_Code 00 paid, 01 not found, 02 paid or cancelled already, 03 duplicate, 04 invalid data or amount, 05 failure)", body = Object)))]
pub async fn bill_payment(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: ApiJson<PaymentRequest>,
) -> Json<PaymentResponse> {
    Json(onebill::payment(&state.ctx, peer.ip(), body.value).await)
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(bill_inquiry))
        .routes(routes!(bill_payment))
}
