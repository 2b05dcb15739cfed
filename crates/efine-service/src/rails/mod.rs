//! The payment rails as this server talks to them: their settings (from configuration), and the
//! HTTP clients that ask a rail what happened to a payment (`inquiry`).

pub mod inquiry;

use efine_pay::jazzcash::Merchant;
use std::net::IpAddr;

/// The caller credentials banks use on the 1Bill biller API.
#[derive(Clone)]
pub struct OneBillConfig {
    pub username: String,
    pub password: String,
    /// When set, only these addresses may call the biller API.
    pub allow: Option<Vec<IpAddr>>,
}

impl std::fmt::Debug for OneBillConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneBillConfig")
            .field("username", &self.username)
            .field("allow", &self.allow)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct JazzcashConfig {
    pub merchant: Merchant,
    /// Where the payer's browser posts the checkout form (JazzCash's hosted page, or our sandbox).
    pub gateway_url: String,
    /// Base URL of JazzCash's REST API (status inquiries).
    pub api_base: String,
}

#[derive(Debug, Clone)]
pub struct EasypaisaConfig {
    pub store: efine_pay::easypaisa::Store,
    /// Easypaisa's hosted checkout page.
    pub checkout_url: String,
    /// Base URL of Easypaisa's REST API (the inquiry lives under it).
    pub api_base: String,
}

#[derive(Debug, Clone)]
pub struct CardConfig {
    pub gateway: efine_pay::card::Gateway,
}

/// Raast: the biller's identity in its QR codes, and its bank's API for status inquiries.
#[derive(Clone)]
pub struct RaastConfig {
    pub biller: efine_pay::raast::Biller,
    /// Base URL of the biller's bank's Raast API (status inquiries).
    pub api_base: String,
    /// Credentials for that API, sent as HTTP basic authentication.
    pub api_username: String,
    pub api_password: String,
}

impl std::fmt::Debug for RaastConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaastConfig")
            .field("biller", &self.biller)
            .field("api_base", &self.api_base)
            .field("api_username", &self.api_username)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default)]
pub struct PaymentsConfig {
    /// The address citizens reach E-Fine at (for return URLs).
    pub public_url: String,
    pub onebill: Option<OneBillConfig>,
    pub jazzcash: Option<JazzcashConfig>,
    pub easypaisa: Option<EasypaisaConfig>,
    pub card: Option<CardConfig>,
    pub raast: Option<RaastConfig>,
    /// Serve the rails' sandboxes (hosted pages) from this server.
    pub sandbox: bool,
}

impl PaymentsConfig {
    /// The hosted rails a payer may be sent to (configured here), in the order they are offered.
    /// A rail that is not configured is never offered, on a page or through the API.
    pub fn hosted(&self) -> Vec<efine_core::payment::Rail> {
        use efine_core::payment::Rail;
        let mut v = Vec::new();
        if self.jazzcash.is_some() {
            v.push(Rail::Jazzcash);
        }
        if self.easypaisa.is_some() {
            v.push(Rail::Easypaisa);
        }
        if self.card.is_some() {
            v.push(Rail::Card);
        }
        v
    }

    /// Whether banks can collect by PSID here (the 1Bill biller API is configured).
    pub fn takes_1bill(&self) -> bool {
        self.onebill.is_some()
    }
}

/// The sandbox's own credentials: used with `--demo` and in tests, never in production.
pub fn sandbox(public_url: &str) -> PaymentsConfig {
    let public_url = public_url.trim_end_matches('/').to_string();
    PaymentsConfig {
        onebill: Some(OneBillConfig {
            username: "sandbox-bank".into(),
            password: "sandbox-1bill".into(),
            allow: None,
        }),
        jazzcash: Some(JazzcashConfig {
            merchant: Merchant {
                merchant_id: "MC-SANDBOX".into(),
                password: "sandbox-pw".into(),
                integrity_salt: "sandbox-integrity-salt".into(),
            },
            gateway_url: format!("{public_url}/sandbox/jazzcash/merchantform"),
            api_base: format!("{public_url}/sandbox/jazzcash"),
        }),
        easypaisa: Some(EasypaisaConfig {
            store: efine_pay::easypaisa::Store {
                store_id: "SBX-STORE-1".into(),
                hash_key: efine_pay::easypaisa::HashKey::new("sbx-hashkey-0016")
                    .expect("the sandbox key is 16 bytes"),
                username: "sandbox-store".into(),
                password: "sandbox-easypaisa".into(),
                account_num: None,
            },
            checkout_url: format!("{public_url}/sandbox/easypaisa/checkout"),
            api_base: format!("{public_url}/sandbox/easypaisa"),
        }),
        card: Some(CardConfig {
            gateway: efine_pay::card::Gateway {
                merchant_id: "SBX-CARD-MERCHANT".into(),
                checkout_url: format!("{public_url}/sandbox/card/pay"),
                session_secret: "sandbox-card-session".into(),
                webhook_secrets: vec!["sandbox-card-webhook".into()],
                tolerance_secs: efine_pay::card::DEFAULT_TOLERANCE_SECS,
            },
        }),
        raast: Some(RaastConfig {
            biller: efine_pay::raast::Biller {
                // The standard example IBAN for Pakistan: valid in shape and checksum, no account.
                iban: "PK36SCBL0000001123456702".into(),
                name: "KP E-FINE SANDBOX".into(),
                city: "PESHAWAR".into(),
                mcc: "9399".into(),
                notification_secrets: vec!["sandbox-raast-notify".into()],
                tolerance_secs: efine_pay::card::DEFAULT_TOLERANCE_SECS,
            },
            api_base: format!("{public_url}/sandbox/raast"),
            api_username: "sandbox-biller".into(),
            api_password: "sandbox-raast".into(),
        }),
        sandbox: true,
        public_url,
    }
}

/// Constant-time equality for credentials.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = (a.len() ^ b.len()) as u8;
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}
