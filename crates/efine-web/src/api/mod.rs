//! The JSON API under `/api/v1` (and the rails' callbacks): one module per resource, each owning
//! its routes (`routes()`), and the OpenAPI document built from the same `routes!(...)` calls, so
//! the document cannot drift from the code. A handler parses the request into core types, calls
//! one service or store function, and renders a view type.

pub mod appeals;
pub mod auth;
pub mod cancellations;
pub mod cash;
pub mod catalogue;
pub mod challans;
pub mod checkout;
pub mod devices;
pub mod documents;
pub mod fees;
pub mod health;
pub mod log_heads;
pub mod onebill;
pub mod public;
pub mod rails;
pub mod recon;
pub mod refunds;
pub mod stats;
pub mod vehicles;
pub mod verify;

use crate::AppState;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "E-Fine API",
        description = "Issue, look up, pay and verify government fines and fees. \
                       Amounts are integer paisa; errors are {\"error\": {\"code\", \"message\", \"field\"?, \"request_id\"?}}. \
                       Any call that reads or writes records may answer 503 `unavailable` with Retry-After \
                       when the database cannot do the work just now: nothing was written, send the same \
                       request again (with the same Idempotency-Key where it takes one). A 500 `internal` \
                       is a fault on our side; its request_id (also in X-Request-Id) names the log entry.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health"), (name = "auth", description = "Staff and device login"),
        (name = "catalogue", description = "Departments, districts, offences and fees"),
        (name = "challans", description = "Issuing and reading challans (staff)"),
        (name = "public", description = "What citizens may see and do"),
        (name = "fees", description = "Fees a citizen starts: the service catalogue, vouchers, their use at the counter"),
        (name = "payments", description = "Counter cash, cash-up, refunds (staff)"),
        (name = "1bill", description = "1Bill (1LINK) biller API for banks, ATMs and wallets"),
        (name = "verification", description = "Signed QR codes: is this challan or receipt genuine?"),
        (name = "documents", description = "Printable challans and receipts (PDF, ESC/POS)"),
        (name = "enforcement", description = "Checkpoint status and clearance of a vehicle (staff)"),
        (name = "devices", description = "Officers' phones: enrolment, and the sync of challans issued offline"),
        (name = "statistics", description = "Summaries, trends, anomalies and forecast (staff, scoped by role); CSV with format=csv"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Adds to every operation the answers the shared layers give, where its own annotation does not
/// list them already, so that a client generated from the document expects them: 400, 413 and
/// 415 for a JSON body (`ApiJson`), 422 for anything it reads from the request (`field` names
/// what), 401 where it takes a bearer token, and 503 wherever it reaches the database (every
/// operation but the liveness check). 405 (a method a path does not take) belongs to no
/// operation and is not listed.
pub fn complete_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::Operation;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    let add = |op: &mut Operation, status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error(description));
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            let json_body = op
                .request_body
                .as_ref()
                .is_some_and(|b| b.content.contains_key("application/json"));
            if json_body {
                add(op, "400", "the body is not well-formed JSON");
                add(op, "413", "the body is too large");
                add(op, "415", "the body is not sent as application/json");
            }
            let reads_input =
                op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            if reads_input {
                add(
                    op,
                    "422",
                    "a value is not valid: `error.field` names it, `error.message` says why",
                );
            }
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                add(op, "401", "no bearer token, or one that has ended");
            }
            if path != "/healthz" {
                add(
                    op,
                    "503",
                    "`unavailable`: the database cannot do the work just now; nothing was \
                     written; send the same request again after Retry-After",
                );
            }
        }
    }
}

/// Every resource's routes and the OpenAPI document that describes them.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(appeals::routes())
        .merge(auth::routes())
        .merge(cancellations::routes())
        .merge(cash::routes())
        .merge(catalogue::routes())
        .merge(challans::routes())
        .merge(checkout::routes())
        .merge(devices::routes())
        .merge(documents::routes())
        .merge(fees::routes())
        .merge(health::routes())
        .merge(log_heads::routes())
        .merge(onebill::routes())
        .merge(public::routes())
        .merge(rails::routes())
        .merge(recon::routes())
        .merge(refunds::routes())
        .merge(stats::routes())
        .merge(vehicles::routes())
        .merge(verify::routes())
}
