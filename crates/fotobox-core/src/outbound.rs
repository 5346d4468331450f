//! Outgoing HTTP of the domain (Click's Merchant API, Telegram alerts, the tunnel's health check,
//! the provider simulators): a `ureq` agent whose blocking calls run on tokio's blocking pool.
//! `ureq` keeps the domain free of an HTTP server stack (no hyper, no tower in its tree).
//!
//! Errors never carry the URL: some URLs hold a secret (Telegram's bot token).

use std::time::Duration;

use serde_json::Value;

/// Largest answer body read (bytes); the rest is refused, not buffered.
pub const MAX_REPLY_BYTES: u64 = 1024 * 1024;

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("timed out")]
    Timeout,
    #[error("{0}")]
    Transport(String),
}

impl OutboundError {
    pub fn is_timeout(&self) -> bool {
        matches!(self, OutboundError::Timeout)
    }
}

/// One request.
#[derive(Debug, Clone)]
pub struct OutRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl OutRequest {
    pub fn new(method: Method, url: impl Into<String>, timeout: Duration) -> OutRequest {
        OutRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> OutRequest {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> OutRequest {
        self.body = Some(bytes.into());
        self
    }

    /// A JSON body with its content type.
    pub fn json(self, value: &Value) -> OutRequest {
        self.header("Content-Type", "application/json")
            .body(value.to_string())
    }
}

/// An HTTP answer of any status.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, `Value::Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The outgoing HTTP client: cheap to clone (connections are pooled and shared).
#[derive(Clone)]
pub struct Outbound {
    agent: ureq::Agent,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outbound")
    }
}

impl Default for Outbound {
    fn default() -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(15)))
            .build();
        Outbound {
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

impl Outbound {
    /// Send `req` on a blocking thread; any HTTP status is an `Ok` answer.
    pub async fn send(&self, req: OutRequest) -> Result<Reply, OutboundError> {
        let agent = self.agent.clone();
        tokio::task::spawn_blocking(move || send_blocking(&agent, req))
            .await
            .map_err(|e| OutboundError::Transport(format!("request thread failed: {e}")))?
    }
}

fn send_blocking(agent: &ureq::Agent, req: OutRequest) -> Result<Reply, OutboundError> {
    let timeout = Some(req.timeout);
    let result = match req.method {
        Method::Get | Method::Delete => {
            let mut b = if req.method == Method::Get {
                agent.get(&req.url)
            } else {
                agent.delete(&req.url)
            };
            for (k, v) in &req.headers {
                b = b.header(k, v);
            }
            b.config().timeout_global(timeout).build().call()
        }
        Method::Post => {
            let mut b = agent.post(&req.url);
            for (k, v) in &req.headers {
                b = b.header(k, v);
            }
            let body = req.body.unwrap_or_default();
            b.config().timeout_global(timeout).build().send(&body[..])
        }
    };
    let mut resp = result.map_err(describe)?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_REPLY_BYTES)
        .read_to_vec()
        .map_err(describe)?;
    Ok(Reply { status, body })
}

/// A transport error in words, without the URL.
fn describe(e: ureq::Error) -> OutboundError {
    match e {
        ureq::Error::Timeout(_) => OutboundError::Timeout,
        ureq::Error::Io(io) => OutboundError::Transport(format!("i/o error: {}", io.kind())),
        ureq::Error::ConnectionFailed => OutboundError::Transport("connection failed".into()),
        ureq::Error::HostNotFound => OutboundError::Transport("host not found".into()),
        ureq::Error::BodyExceedsLimit(n) => {
            OutboundError::Transport(format!("answer larger than {n} bytes"))
        }
        other => OutboundError::Transport(
            other
                .to_string()
                .split("http")
                .next()
                .unwrap_or("request failed")
                .trim()
                .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_is_a_transport_error_without_the_url() {
        // Port 9 on loopback: nothing listens (discard service is not installed).
        let req = OutRequest::new(
            Method::Get,
            "http://127.0.0.1:9/botSECRET/x",
            Duration::from_secs(2),
        );
        let e = Outbound::default().send(req).await.unwrap_err();
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }
}
