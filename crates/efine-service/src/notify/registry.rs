//! The vehicle registration authority: who owns a plate. A challan issued against a plate alone
//! (a camera, ANPR) reaches the registered owner's phone through it.
//!
//! `HttpRegistry` asks the authority's service: `POST <url>` with `{"vehicle": "PES-1234"}` and a
//! bearer token; `200 {"owner_name", "cnic", "mobile", "email"?}` or `404` when the plate is not
//! registered. `SandboxRegistry` answers from `data/vehicle-registry-sandbox.toml`, in process or
//! over HTTP at `/sandbox/registry/owner` in the same wire format.

use efine_core::{Cnic, MobileNumber, VehicleNumber};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The registered owner, as the authority answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub name: String,
    pub cnic: Option<Cnic>,
    pub mobile: Option<MobileNumber>,
    pub email: Option<String>,
}

/// The registry's answer on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnerWire {
    pub owner_name: String,
    pub cnic: Option<String>,
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl OwnerWire {
    fn into_owner(self) -> Owner {
        Owner {
            name: self.owner_name,
            cnic: self.cnic.and_then(|c| Cnic::parse(&c).ok()),
            // A number the registry holds in a shape we cannot send to is as good as none.
            mobile: self.mobile.and_then(|m| MobileNumber::parse(&m).ok()),
            email: self.email.filter(|e| e.contains('@')),
        }
    }
    fn from_owner(o: &Owner) -> OwnerWire {
        OwnerWire {
            owner_name: o.name.clone(),
            cnic: o.cnic.as_ref().map(|c| c.digits().to_string()),
            mobile: o.mobile.as_ref().map(|m| m.e164().to_string()),
            email: o.email.clone(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("vehicle registry: {0}")]
pub struct RegistryError(pub String);

pub type Lookup<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Owner>, RegistryError>> + Send + 'a>>;

/// Who owns a plate: `None` when the authority has no such registration.
pub trait Registry: Send + Sync {
    fn owner<'a>(&'a self, plate: &'a VehicleNumber) -> Lookup<'a>;
}

#[derive(Debug, Deserialize)]
struct SandboxFile {
    generated: Generated,
    #[serde(default)]
    vehicle: Vec<SandboxVehicle>,
}

#[derive(Debug, Deserialize)]
struct Generated {
    prefixes: Vec<String>,
    names: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct SandboxVehicle {
    plate: String,
    owner_name: String,
    cnic: Option<String>,
    mobile: Option<String>,
    email: Option<String>,
}

/// The shipped sandbox data set.
pub const SANDBOX_DATA: &str = include_str!("../../../../data/vehicle-registry-sandbox.toml");

/// The registry sandbox: fixed entries, and a stable made-up owner for plates with known letters.
#[derive(Debug, Clone)]
pub struct SandboxRegistry {
    fixed: HashMap<String, Owner>,
    prefixes: Vec<String>,
    names: Vec<String>,
}

impl SandboxRegistry {
    pub fn parse(text: &str) -> Result<SandboxRegistry, RegistryError> {
        let f: SandboxFile =
            toml::from_str(text).map_err(|e| RegistryError(format!("sandbox data: {e}")))?;
        if f.generated.names.is_empty() {
            return Err(RegistryError("sandbox data: no names".into()));
        }
        let mut fixed = HashMap::new();
        for v in f.vehicle {
            let plate = VehicleNumber::parse(&v.plate)
                .map_err(|e| RegistryError(format!("sandbox data: {e}")))?;
            let owner = OwnerWire {
                owner_name: v.owner_name,
                cnic: v.cnic,
                mobile: v.mobile,
                email: v.email,
            }
            .into_owner();
            fixed.insert(plate.as_str().to_string(), owner);
        }
        Ok(SandboxRegistry {
            fixed,
            prefixes: f.generated.prefixes,
            names: f.generated.names,
        })
    }

    pub fn shipped() -> SandboxRegistry {
        SandboxRegistry::parse(SANDBOX_DATA).expect("the shipped registry sandbox data is valid")
    }

    pub fn lookup(&self, plate: &VehicleNumber) -> Option<Owner> {
        if let Some(o) = self.fixed.get(plate.as_str()) {
            return Some(o.clone());
        }
        let letters = plate.as_str().split('-').next().unwrap_or("");
        if !self.prefixes.iter().any(|p| p == letters) {
            return None;
        }
        let h = Sha256::digest(plate.as_str().as_bytes());
        let n = |i: usize| u64::from_be_bytes(h[i..i + 8].try_into().unwrap_or([0; 8]));
        let name = self.names[(n(0) % self.names.len() as u64) as usize].clone();
        let cnic = format!("17301{:07}{}", n(8) % 10_000_000, n(16) % 10);
        let networks = ["300", "301", "312", "321", "333", "345", "346"];
        let mobile = format!(
            "0{}{:07}",
            networks[(n(24) % networks.len() as u64) as usize],
            n(16) % 10_000_000
        );
        Some(Owner {
            name,
            cnic: Cnic::parse(&cnic).ok(),
            mobile: MobileNumber::parse(&mobile).ok(),
            email: None,
        })
    }

    /// The wire answer for the sandbox's HTTP endpoint.
    pub fn answer(&self, plate: &VehicleNumber) -> Option<OwnerWire> {
        self.lookup(plate).map(|o| OwnerWire::from_owner(&o))
    }
}

impl Registry for SandboxRegistry {
    fn owner<'a>(&'a self, plate: &'a VehicleNumber) -> Lookup<'a> {
        Box::pin(async move { Ok(self.lookup(plate)) })
    }
}

/// The authority's service over HTTP.
#[derive(Clone)]
pub struct HttpRegistry {
    url: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for HttpRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRegistry")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .finish()
    }
}

impl HttpRegistry {
    pub fn new(url: &str, token: Option<String>) -> Result<HttpRegistry, RegistryError> {
        check_url(url).map_err(RegistryError)?;
        Ok(HttpRegistry {
            url: url.to_string(),
            token,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| RegistryError(format!("HTTP client: {e}")))?,
        })
    }
}

impl Registry for HttpRegistry {
    fn owner<'a>(&'a self, plate: &'a VehicleNumber) -> Lookup<'a> {
        Box::pin(async move {
            let mut rq = self
                .http
                .post(&self.url)
                .json(&serde_json::json!({ "vehicle": plate.as_str() }));
            if let Some(t) = &self.token {
                rq = rq.bearer_auth(t);
            }
            let r = rq
                .send()
                .await
                .map_err(|e| RegistryError(e.without_url().to_string()))?;
            match r.status().as_u16() {
                200 => {
                    let w: OwnerWire = r
                        .json()
                        .await
                        .map_err(|e| RegistryError(format!("bad answer: {}", e.without_url())))?;
                    Ok(Some(w.into_owner()))
                }
                404 => Ok(None),
                s => Err(RegistryError(format!("answered HTTP {s}"))),
            }
        })
    }
}

/// An outgoing service URL: http(s), with no credentials in it (they go in their own settings,
/// which are never logged).
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| "it must be an http:// or https:// URL".to_string())?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || url.contains(char::is_whitespace) {
        return Err("the URL must name a host and carry no credentials".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_answers_fixed_generated_and_unknown_plates() {
        let s = SandboxRegistry::shipped();
        let fixed = s
            .lookup(&VehicleNumber::parse("lea 1234").unwrap())
            .unwrap();
        assert_eq!(fixed.name, "Ayesha Siddiqui");
        assert_eq!(fixed.email.as_deref(), Some("ayesha.siddiqui@example.pk"));
        let p = VehicleNumber::parse("PES-4321").unwrap();
        let a = s.lookup(&p).unwrap();
        assert_eq!(a, s.lookup(&p).unwrap(), "the same owner every time");
        assert!(a.mobile.is_some() && a.cnic.is_some());
        assert_eq!(s.lookup(&VehicleNumber::parse("XYZ-1").unwrap()), None);
    }

    #[test]
    fn urls_with_credentials_are_refused() {
        assert!(check_url("https://sms.example.pk/send").is_ok());
        assert!(check_url("https://user:pw@sms.example.pk/send").is_err());
        assert!(check_url("ftp://x").is_err());
    }
}
