//! Domain types shared by the store, the core functions and both doors (REST and Tauri).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Sum;

/// Which provider an order is paid through (`payments.payment_type`, stored as its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum Provider {
    Payme,
    Click,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Payme => "payme",
            Provider::Click => "click",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        match s {
            "payme" => Some(Provider::Payme),
            "click" => Some(Provider::Click),
            _ => None,
        }
    }
}

/// An order's payment status, as the legacy API reports it (`payments.status`, stored as its
/// name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum PaymentStatus {
    Pending,
    Success,
    Canceled,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Success => "success",
            PaymentStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        match s {
            "pending" => Some(PaymentStatus::Pending),
            "success" => Some(PaymentStatus::Success),
            "canceled" => Some(PaymentStatus::Canceled),
            _ => None,
        }
    }
}

/// Names compare with their stored strings (`p.status == "success"`).
macro_rules! name_eq {
    ($t:ty) => {
        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

name_eq!(Provider);
name_eq!(PaymentStatus);

/// One row of `payments`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Payment {
    pub id: i64,
    pub order_id: String,
    pub transaction_id: Option<String>,
    /// Whole sum (UZS).
    pub amount: Sum,
    pub payment_type: Provider,
    pub status: PaymentStatus,
    pub state: Option<i64>,
    pub create_time: DateTime<Utc>,
    pub perform_time: Option<DateTime<Utc>>,
    pub cancel_time: Option<DateTime<Utc>>,
    pub metadata_json: Option<String>,
    pub template_name: Option<String>,
    pub copies: i64,
    pub expires_at: DateTime<Utc>,
    pub cancel_reason: Option<String>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Payment {
    pub fn status(&self) -> PaymentStatus {
        self.status
    }

    pub fn provider(&self) -> Option<Provider> {
        Some(self.payment_type)
    }

    /// Unpaid and past its waiting time (a live provider transaction is checked separately).
    pub fn is_past_expiry(&self, now: DateTime<Utc>) -> bool {
        self.status() == PaymentStatus::Pending && now >= self.expires_at
    }
}

/// One row of the append-only `payment_events` log.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PaymentEvent {
    pub id: i64,
    pub payment_id: i64,
    pub source: String,
    pub kind: String,
    pub detail_json: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One row of `photos`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Photo {
    pub id: i64,
    pub payment_id: Option<i64>,
    pub template_name: String,
    pub copy_count: i64,
    pub composite_path: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A status change, published on the event channel once its commit succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusEvent {
    pub order_id: String,
    pub status: PaymentStatus,
    pub amount: Sum,
    pub payment_type: Provider,
}
