//! The server's payment rails from the settings: each rail is configured completely or not at
//! all, and with `--demo` or `sandbox` the rails left out use E-Fine's own sandboxes.

use super::{RailSettings, Settings};
use anyhow::{bail, Result};
use efine_web::payments::PaymentsConfig;
use efine_web::payments::{
    CardConfig, EasypaisaConfig, JazzcashConfig, OneBillConfig, RaastConfig,
};
use secrecy::{ExposeSecret, SecretString};

fn reveal(s: &Option<SecretString>) -> Option<String> {
    s.as_ref().map(|s| s.expose_secret().to_string())
}

impl Settings {
    /// The rails a server takes payments on.
    pub fn payments(&self, demo: bool) -> Result<PaymentsConfig> {
        let r: &RailSettings = &self.rails;
        let public_url = self.serve.public_url.clone();
        let mut cfg = if demo || r.sandbox {
            efine_web::payments::sandbox(&public_url)
        } else {
            PaymentsConfig {
                public_url,
                ..Default::default()
            }
        };
        match (&r.onebill_username, reveal(&r.onebill_password)) {
            (Some(u), Some(p)) => {
                cfg.onebill = Some(OneBillConfig {
                    username: u.clone(),
                    password: p,
                    allow: None,
                })
            }
            (None, None) => {}
            _ => bail!("set both EFINE_1BILL_USERNAME and EFINE_1BILL_PASSWORD, or neither"),
        }
        if !r.onebill_allow.is_empty() {
            if let Some(o) = cfg.onebill.as_mut() {
                o.allow = Some(r.onebill_allow.clone());
            }
        }
        match (
            &r.jazzcash_merchant_id,
            reveal(&r.jazzcash_password),
            reveal(&r.jazzcash_integrity_salt),
        ) {
            (Some(m), Some(p), Some(s)) => {
                let (Some(url), Some(api)) = (&r.jazzcash_url, &r.jazzcash_api_url) else {
                    let key = if r.jazzcash_url.is_none() {
                        "jazzcash_url"
                    } else {
                        "jazzcash_api_url"
                    };
                    return Err(self.invalid(key, "is required with a JazzCash merchant"));
                };
                cfg.jazzcash = Some(JazzcashConfig {
                    merchant: efine_pay::jazzcash::Merchant {
                        merchant_id: m.clone(),
                        password: p,
                        integrity_salt: s,
                    },
                    gateway_url: url.clone(),
                    api_base: api.clone(),
                })
            }
            (None, None, None) => {}
            _ => bail!(
                "set all of EFINE_JAZZCASH_MERCHANT_ID, EFINE_JAZZCASH_PASSWORD and EFINE_JAZZCASH_INTEGRITY_SALT, or none"
            ),
        }
        let ep_secrets = [&r.easypaisa_hash_key, &r.easypaisa_password];
        let ep_plain = [
            &r.easypaisa_store_id,
            &r.easypaisa_username,
            &r.easypaisa_url,
            &r.easypaisa_api_url,
        ];
        let get = |v: &Option<String>| v.clone().unwrap_or_default();
        if ep_secrets.iter().all(|v| v.is_some()) && ep_plain.iter().all(|v| v.is_some()) {
            let key = reveal(&r.easypaisa_hash_key).unwrap_or_default();
            cfg.easypaisa = Some(EasypaisaConfig {
                store: efine_pay::easypaisa::Store {
                    store_id: get(&r.easypaisa_store_id),
                    hash_key: efine_pay::easypaisa::HashKey::new(&key).map_err(|_| {
                        self.invalid("easypaisa_hash_key", "must be exactly 16 bytes")
                    })?,
                    username: get(&r.easypaisa_username),
                    password: reveal(&r.easypaisa_password).unwrap_or_default(),
                    account_num: None,
                },
                checkout_url: get(&r.easypaisa_url),
                api_base: get(&r.easypaisa_api_url),
            });
        } else if ep_secrets.iter().any(|v| v.is_some()) || ep_plain.iter().any(|v| v.is_some()) {
            bail!("set all of EFINE_EASYPAISA_STORE_ID, _HASH_KEY, _USERNAME, _PASSWORD, _URL and _API_URL, or none");
        }
        let card_complete = r.card_merchant_id.is_some()
            && r.card_url.is_some()
            && r.card_session_secret.is_some()
            && !r.card_webhook_secrets.is_empty();
        if card_complete {
            cfg.card = Some(CardConfig {
                gateway: efine_pay::card::Gateway {
                    merchant_id: get(&r.card_merchant_id),
                    checkout_url: get(&r.card_url),
                    session_secret: reveal(&r.card_session_secret).unwrap_or_default(),
                    webhook_secrets: r
                        .card_webhook_secrets
                        .iter()
                        .map(|s| s.expose_secret().to_string())
                        .collect(),
                    tolerance_secs: efine_pay::card::DEFAULT_TOLERANCE_SECS,
                },
            });
        } else if r.card_merchant_id.is_some()
            || r.card_url.is_some()
            || r.card_session_secret.is_some()
            || !r.card_webhook_secrets.is_empty()
        {
            bail!("set all of EFINE_CARD_MERCHANT_ID, EFINE_CARD_URL, EFINE_CARD_SESSION_SECRET and EFINE_CARD_WEBHOOK_SECRETS, or none");
        }
        let raast_set = [
            r.raast_iban.is_some(),
            r.raast_name.is_some(),
            r.raast_city.is_some(),
            !r.raast_notification_secrets.is_empty(),
            r.raast_api_url.is_some(),
            r.raast_api_username.is_some(),
            r.raast_api_password.is_some(),
        ];
        if raast_set.iter().all(|s| *s) {
            let biller = efine_pay::raast::Biller {
                iban: get(&r.raast_iban).trim().to_uppercase(),
                name: get(&r.raast_name),
                city: get(&r.raast_city),
                mcc: r.raast_mcc.clone(),
                notification_secrets: r
                    .raast_notification_secrets
                    .iter()
                    .map(|s| s.expose_secret().to_string())
                    .collect(),
                tolerance_secs: efine_pay::card::DEFAULT_TOLERANCE_SECS,
            };
            if let Err(e) = biller.validate() {
                let key = match &e {
                    efine_pay::raast::QrError::Field { field, .. } => match *field {
                        "iban" => "raast_iban",
                        "name" => "raast_name",
                        "city" => "raast_city",
                        _ => "raast_mcc",
                    },
                    _ => "raast_iban",
                };
                return Err(self.invalid(key, e));
            }
            cfg.raast = Some(RaastConfig {
                biller,
                api_base: get(&r.raast_api_url),
                api_username: get(&r.raast_api_username),
                api_password: reveal(&r.raast_api_password).unwrap_or_default(),
            });
        } else if raast_set.iter().any(|s| *s) {
            bail!("set all of EFINE_RAAST_IBAN, _NAME, _CITY, _NOTIFICATION_SECRETS, _API_URL, _API_USERNAME and _API_PASSWORD, or none");
        }
        Ok(cfg)
    }
}
