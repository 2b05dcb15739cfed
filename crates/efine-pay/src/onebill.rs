//! 1Bill (1LINK) biller API: banks, ATMs, internet banking, wallets and bank counters call us
//! with a consumer number (our PSID). Field names and formats as the rail sends them.

use efine_core::{Money, ParseError};
use serde::{Deserialize, Serialize};

/// 1Bill response codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseCode {
    Ok,
    NotFound,
    /// Blocked or expired (cancelled challans).
    Blocked,
    /// The same payment sent again: never credited twice.
    Duplicate,
    /// Invalid data or credentials, or an amount that is not the full amount due.
    InvalidData,
    ProcessingFailed,
}

impl ResponseCode {
    pub fn code(self) -> &'static str {
        match self {
            ResponseCode::Ok => "00",
            ResponseCode::NotFound => "01",
            ResponseCode::Blocked => "02",
            ResponseCode::Duplicate => "03",
            ResponseCode::InvalidData => "04",
            ResponseCode::ProcessingFailed => "05",
        }
    }
}

/// `+` and 13 digits, the last two paisa: `+0000000120000` is Rs 1,200.
pub fn format_signed_amount(m: Money) -> String {
    format!("+{:013}", m.paisa())
}

/// 13 digits without sign, last two paisa (payment requests).
pub fn parse_unsigned_amount(s: &str) -> Result<Money, ParseError> {
    let s = s.trim();
    if s.len() != 13 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(
            "transaction_amount must be 13 digits, the last two paisa",
        ));
    }
    let p: i64 = s.parse().map_err(|_| ParseError::new("bad amount"))?;
    Money::from_paisa(p)
}

pub fn format_unsigned_amount(m: Money) -> String {
    format!("{:013}", m.paisa())
}

/// `Amount_Paid`: 12 digits, last two paisa.
pub fn format_amount_paid(m: Money) -> String {
    format!("{:012}", m.paisa() % 1_000_000_000_000)
}

/// `Consumer_Detail`: padded (or cut) to 30 characters.
pub fn consumer_detail(s: &str) -> String {
    let cut: String = s.chars().take(30).collect();
    format!("{cut:<30}")
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct InquiryRequest {
    #[serde(rename = "userName")]
    pub user_name: String,
    pub password: String,
    #[serde(rename = "consumerNumber")]
    pub consumer_number: String,
    #[serde(rename = "bankMnemonic")]
    pub bank_mnemonic: String,
    #[serde(default)]
    pub reserved: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[allow(non_snake_case)]
pub struct InquiryResponse {
    pub Response_Code: String,
    pub Consumer_Detail: String,
    /// `U` unpaid, `P` paid, `B` blocked or expired.
    pub Bill_Status: String,
    /// `YYYYMMDD`.
    pub Due_Date: String,
    pub Amount_Within_DueDate: String,
    pub Amount_After_DueDate: String,
    /// `YYMM`.
    pub Billing_Month: String,
    pub Date_Paid: String,
    pub Amount_Paid: String,
    pub Tran_Auth_Id: String,
    pub Reserved: String,
}

impl InquiryResponse {
    /// A response carrying only a code (not found, invalid credentials...).
    pub fn code_only(code: ResponseCode) -> InquiryResponse {
        InquiryResponse {
            Response_Code: code.code().into(),
            Consumer_Detail: consumer_detail(""),
            Bill_Status: String::new(),
            Due_Date: String::new(),
            Amount_Within_DueDate: String::new(),
            Amount_After_DueDate: String::new(),
            Billing_Month: String::new(),
            Date_Paid: String::new(),
            Amount_Paid: String::new(),
            Tran_Auth_Id: String::new(),
            Reserved: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PaymentRequest {
    #[serde(rename = "userName")]
    pub user_name: String,
    pub password: String,
    pub consumer_number: String,
    /// Six-digit STAN from the bank.
    pub tran_auth_id: String,
    /// 13 digits, no sign, last two paisa.
    pub transaction_amount: String,
    /// `YYYYMMDD`.
    pub tran_date: String,
    /// `HHMMSS`.
    pub tran_time: String,
    pub bank_mnemonic: String,
    #[serde(rename = "Reserved", default)]
    pub reserved: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[allow(non_snake_case)]
pub struct PaymentResponse {
    pub response_Code: String,
    pub Identification_parameter: String,
    pub Reserved: String,
}

/// A payment request whose fields all parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPayment {
    pub consumer_number: String,
    pub tran_auth_id: String,
    pub amount: Money,
    pub tran_date: time::Date,
    pub tran_time: time::Time,
    pub bank_mnemonic: String,
}

impl ParsedPayment {
    /// The rail's identity of this transaction: the same payment sent again has the same id.
    /// Per the reference: same consumer number, auth id, amount and date.
    pub fn rail_txn_id(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.bank_mnemonic,
            self.tran_date,
            self.tran_auth_id,
            self.consumer_number,
            self.amount.paisa()
        )
    }
}

pub fn parse_date(s: &str) -> Result<time::Date, ParseError> {
    time::Date::parse(s, time::macros::format_description!("[year][month][day]"))
        .map_err(|_| ParseError::new("tran_date must be YYYYMMDD"))
}

pub fn format_date(d: time::Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

impl PaymentRequest {
    pub fn parse(&self) -> Result<ParsedPayment, ParseError> {
        let auth = self.tran_auth_id.trim();
        if auth.len() != 6 || !auth.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new("tran_auth_id must be 6 digits"));
        }
        let mnemonic = self.bank_mnemonic.trim();
        if mnemonic.is_empty() || mnemonic.len() > 8 {
            return Err(ParseError::new("bank_mnemonic must be 1 to 8 characters"));
        }
        let t = self.tran_time.trim();
        let tran_time = time::Time::parse(
            t,
            time::macros::format_description!("[hour][minute][second]"),
        )
        .map_err(|_| ParseError::new("tran_time must be HHMMSS"))?;
        Ok(ParsedPayment {
            consumer_number: self.consumer_number.trim().to_string(),
            tran_auth_id: auth.to_string(),
            amount: parse_unsigned_amount(&self.transaction_amount)?,
            tran_date: parse_date(self.tran_date.trim())?,
            tran_time,
            bank_mnemonic: mnemonic.to_ascii_uppercase(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amount_formats() {
        let m = Money::from_rupees(1200).unwrap();
        assert_eq!(format_signed_amount(m), "+0000000120000");
        assert_eq!(format_unsigned_amount(m), "0000000120000");
        assert_eq!(format_amount_paid(m), "000000120000");
        assert_eq!(parse_unsigned_amount("0000000120000").unwrap(), m);
        assert!(parse_unsigned_amount("+000000120000").is_err());
        assert!(parse_unsigned_amount("120000").is_err());
        assert_eq!(consumer_detail("TRF").len(), 30);
    }

    proptest! {
        #[test]
        fn unsigned_roundtrip(p in 0i64..=efine_core::money::MAX_PAISA) {
            let m = Money::from_paisa(p).unwrap();
            prop_assert_eq!(parse_unsigned_amount(&format_unsigned_amount(m)).unwrap(), m);
            prop_assert_eq!(format_signed_amount(m).len(), 14);
        }
    }

    #[test]
    fn payment_request_parses() {
        let r = PaymentRequest {
            user_name: "u".into(),
            password: "p".into(),
            consumer_number: "2601380000000013".into(),
            tran_auth_id: "123456".into(),
            transaction_amount: "0000000050000".into(),
            tran_date: "20261124".into(),
            tran_time: "143000".into(),
            bank_mnemonic: "hbl".into(),
            reserved: None,
        };
        let p = r.parse().unwrap();
        assert_eq!(p.amount.paisa(), 50_000);
        assert_eq!(p.bank_mnemonic, "HBL");
        assert_eq!(format_date(p.tran_date), "20261124");
        let mut bad = r.clone();
        bad.tran_auth_id = "12345".into();
        assert!(bad.parse().is_err());
        let mut bad = r;
        bad.tran_date = "2026-11-24".into();
        assert!(bad.parse().is_err());
    }
}
