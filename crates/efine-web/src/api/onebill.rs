//! The 1Bill biller API: bill inquiry and bill payment by consumer number (our PSID). Answers
//! always carry 1Bill's own response codes; HTTP status is 200 for every well-formed call, as
//! the rail expects. What an inquiry or a payment does is `efine_service::onebill`.
//!
//! Wrong credentials are counted per client address (`1bill:<address>`, the login limits): after
//! the lock threshold that address gets `04` for every call, right credentials or not, until the
//! lock ends. Only the address is counted, never the 1Bill user name, so a stranger's guesses
//! cannot stop the banks' own calls (and with them every citizen's payment at a bank).

use crate::extract::ApiJson;
use crate::AppState;
use axum::extract::{ConnectInfo, State};
use axum::Json;
use efine_pay::onebill::{
    InquiryRequest, InquiryResponse, PaymentRequest, PaymentResponse, ResponseCode,
};
use efine_service::onebill;
use efine_store::ops::throttle::{self, Key};
use std::net::{IpAddr, SocketAddr};

/// Whether the caller may go on: false when its address is locked out (then the call is
/// answered `04` without looking at the credentials). Wrong credentials are counted here.
async fn admitted(state: &AppState, peer: IpAddr, user: &str, password: &str) -> bool {
    let key = vec![Key::new(format!("1bill:{peer}"), state.config.login_policy)];
    let now = state.store.now();
    let k = key.clone();
    match state
        .store
        .read(move |tx| throttle::blocked(tx, &k, now))
        .await
    {
        Ok(None) => {}
        Ok(Some(_)) => {
            tracing::warn!(%peer, "1Bill call refused: address locked after failed credentials");
            return false;
        }
        // The service answers 05 when the database is down; let it.
        Err(_) => return true,
    }
    if onebill::caller_ok(&state.ctx, peer, user, password) {
        return true;
    }
    let subject = format!("1bill:{peer}");
    let r = state
        .store
        .write(move |tx| {
            let none = throttle::Reserved { counts: Vec::new() };
            throttle::failed(tx, &subject, &none, &key, "credentials", now)
        })
        .await;
    if let Err(e) = r {
        tracing::error!(error = %e, "recording a failed 1Bill login");
    }
    // Refused by the service, which keeps the message.
    true
}

/// Bill inquiry: what is owed on a consumer number.
#[utoipa::path(post, path = "/api/v1/1bill/bill-inquiry", tag = "1bill",
    request_body(content = Object, description = "1Bill inquiry: userName, password, consumerNumber, bankMnemonic, reserved"),
    responses((status = 200, description = "1Bill inquiry response (Response_Code 00 ok, 01 not found, 02 blocked, 04 invalid data or credentials, 05 failure)", body = Object)))]
pub async fn bill_inquiry(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: ApiJson<InquiryRequest>,
) -> Json<InquiryResponse> {
    let req = body.value;
    if !admitted(&state, peer.ip(), &req.user_name, &req.password).await {
        return Json(InquiryResponse::code_only(ResponseCode::InvalidData));
    }
    Json(onebill::inquiry(&state.ctx, peer.ip(), req).await)
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
    let req = body.value;
    if !admitted(&state, peer.ip(), &req.user_name, &req.password).await {
        return Json(PaymentResponse {
            response_Code: ResponseCode::InvalidData.code().into(),
            Identification_parameter: String::new(),
            Reserved: "too many failed logins from this address; try later".into(),
        });
    }
    Json(onebill::payment(&state.ctx, peer.ip(), req).await)
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(bill_inquiry))
        .routes(routes!(bill_payment))
}
