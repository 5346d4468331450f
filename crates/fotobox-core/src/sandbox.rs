//! Sandbox credentials: on a start in sandbox mode, a provider without credentials gets
//! generated ones, stored once in `<data_dir>/sandbox_credentials.toml` (mode 0600). The
//! built-in simulators sign with them and the callback endpoints verify them exactly like live
//! ones, so a newcomer's kiosk takes (simulated) payments from the first start. Live mode never
//! takes credentials from the file: no generated credential is ever accepted there (the live
//! start check reads it only to refuse a configured credential equal to a generated one).

use std::path::Path;

use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

use crate::config::{Config, Secret};
use crate::context::{AppContext, AppError};
use crate::error::{DomainError, ErrorKind};
use crate::private_file::{refuse_wide_mode, write_private};
use fotobox_store::model::{PaymentStatus, Provider};
use fotobox_store::StoreError;

/// The file's name in the data directory.
pub const FILE_NAME: &str = "sandbox_credentials.toml";

/// Generated credentials for both providers.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SandboxCredentials {
    pub payme_merchant_id: String,
    pub payme_key: String,
    pub click_service_id: u64,
    pub click_merchant_id: u64,
    pub click_merchant_user_id: u64,
    pub click_secret_key: String,
}

impl std::fmt::Debug for SandboxCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxCredentials")
            .field("payme_merchant_id", &self.payme_merchant_id)
            .field("click_service_id", &self.click_service_id)
            .finish_non_exhaustive()
    }
}

fn hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl SandboxCredentials {
    /// New random credentials of the providers' shapes: a 24-hex Payme merchant id and a
    /// 40-character key (Payme's cash-desk keys are of that order); numeric Click ids and a
    /// secret.
    pub fn generate() -> SandboxCredentials {
        let mut rng = rand::rng();
        SandboxCredentials {
            payme_merchant_id: hex(12),
            payme_key: hex(20),
            click_service_id: rng.random_range(10_000..100_000),
            click_merchant_id: rng.random_range(10_000..100_000),
            click_merchant_user_id: rng.random_range(10_000..100_000),
            click_secret_key: hex(16),
        }
    }

    /// The stored credentials of `data_dir`, if there are any, read without creating anything
    /// (the live start check compares the configured credentials against them).
    pub fn stored(data_dir: &Path) -> Option<SandboxCredentials> {
        let text = std::fs::read_to_string(data_dir.join(FILE_NAME)).ok()?;
        toml::from_str(&text).ok()
    }

    /// The stored credentials of `data_dir`, generated and stored on the first call.
    pub fn load_or_create(data_dir: &Path) -> Result<SandboxCredentials, AppError> {
        let path = data_dir.join(FILE_NAME);
        let io = |source| AppError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::metadata(&path) {
            Ok(meta) => {
                refuse_wide_mode(&path, &meta)?;
                let text = std::fs::read_to_string(&path).map_err(io)?;
                toml::from_str(&text).map_err(|e| {
                    io(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "not valid sandbox credentials ({e}); delete the file to get new ones"
                        ),
                    ))
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let creds = SandboxCredentials::generate();
                let text = toml::to_string(&creds).map_err(|e| io(std::io::Error::other(e)))?;
                let body = format!(
                    "# Generated sandbox credentials: the simulators sign with them. Sandbox mode only.\n{text}"
                );
                write_private(&path, body.as_bytes()).map_err(io)?;
                tracing::info!(path = %path.display(), "generated sandbox credentials");
                Ok(creds)
            }
            Err(e) => Err(io(e)),
        }
    }
}

/// In sandbox mode, give each provider that has no credentials the generated ones. Does nothing
/// in live mode (the file is not even read).
pub fn fill_missing_credentials(config: &mut Config, data_dir: &Path) -> Result<(), AppError> {
    if !config.mode.is_sandbox() {
        return Ok(());
    }
    let payme = &config.payme;
    let payme_missing =
        payme.merchant_id.is_empty() || (payme.key.is_empty() && payme.test_key.is_empty());
    let click = &config.click;
    let click_missing = click.service_id == 0 || click.secret_key.is_empty();
    if !payme_missing && !click_missing {
        return Ok(());
    }
    let creds = SandboxCredentials::load_or_create(data_dir)?;
    if payme_missing {
        if config.payme.merchant_id.is_empty() {
            config.payme.merchant_id = creds.payme_merchant_id.clone();
        }
        if config.payme.key.is_empty() && config.payme.test_key.is_empty() {
            config.payme.test_key = Secret::new(creds.payme_key.clone());
        }
    }
    if click_missing {
        if config.click.service_id == 0 {
            config.click.service_id = creds.click_service_id;
            config.click.merchant_id = creds.click_merchant_id;
            config.click.merchant_user_id = creds.click_merchant_user_id;
        }
        if config.click.secret_key.is_empty() {
            config.click.secret_key = Secret::new(creds.click_secret_key.clone());
        }
    }
    Ok(())
}

/// Why a simulated payment did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// Live mode: the simulator does not exist.
    #[error("no such endpoint")]
    NotInSandbox,
    #[error("order {0} not found")]
    NotFound(String),
    #[error("simulated payment failed: {0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError for SimulateError {
    fn kind(&self) -> ErrorKind {
        match self {
            SimulateError::NotInSandbox | SimulateError::NotFound(_) => ErrorKind::NotFound,
            SimulateError::Failed(_) => ErrorKind::Conflict,
            SimulateError::Store(e) => e.kind(),
        }
    }
}

/// What a simulated payment did.
#[derive(Debug, Clone, Serialize)]
pub struct Simulated {
    pub order_id: String,
    pub status: PaymentStatus,
    /// The provider's answers, as the simulator saw them.
    pub simulated: serde_json::Value,
}

/// Sandbox only: pay an order the way its provider would, through the provider's simulator
/// over the real callback listener (signed like the real provider's requests). Live mode: the
/// simulator does not exist ([`SimulateError::NotInSandbox`], answered 404).
pub async fn simulate_payment(
    ctx: &AppContext,
    order_id: &str,
) -> Result<Simulated, SimulateError> {
    if !ctx.config.mode.is_sandbox() {
        return Err(SimulateError::NotInSandbox);
    }
    let p = ctx
        .store
        .payment_by_order_id(order_id)
        .await?
        .ok_or_else(|| SimulateError::NotFound(order_id.to_string()))?;
    let simulated = match p.provider() {
        Some(Provider::Click) => crate::click::simulator::pay_order(ctx, order_id)
            .await
            .map_err(|e| e.to_string()),
        _ => crate::payme::simulator::pay_order(ctx, order_id)
            .await
            .map_err(|e| e.to_string()),
    }
    .map_err(SimulateError::Failed)?;
    let after = ctx
        .store
        .payment_by_order_id(order_id)
        .await?
        .ok_or_else(|| SimulateError::NotFound(order_id.to_string()))?;
    Ok(Simulated {
        order_id: order_id.to_string(),
        status: after.status(),
        simulated,
    })
}
