//! The JSON-RPC envelope of the Payme Merchant API: error codes with localized messages,
//! answer bodies, the Basic-auth check and strict readers for `params` fields (payme.md §2, §9).

use base64::Engine;
use serde_json::{json, Map, Value};
use subtle::ConstantTimeEq;

use crate::config::Config;

/// Payme's 12-hour transaction timeout (payme.md §7).
pub const TX_TIMEOUT_MS: i64 = 43_200_000;

/// The error codes we send (payme.md §9).
pub mod code {
    pub const NOT_POST: i64 = -32300;
    pub const PARSE: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INSUFFICIENT_PRIVILEGE: i64 = -32504;
    pub const SYSTEM: i64 = -32400;
    pub const WRONG_AMOUNT: i64 = -31001;
    pub const TX_NOT_FOUND: i64 = -31003;
    pub const CANNOT_CANCEL: i64 = -31007;
    pub const CANNOT_PERFORM: i64 = -31008;
    pub const ORDER_NOT_FOUND: i64 = -31050;
    pub const ORDER_NOT_PAYABLE: i64 = -31051;
}

/// A JSON-RPC error: code, localized message, optional data.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64) -> Self {
        RpcError { code, data: None }
    }

    pub fn with_data(mut self, data: impl Into<Value>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// An account error (-31050…-31099): `data` names the `account` sub-field.
    pub fn account(code: i64) -> Self {
        RpcError::new(code).with_data("order_id")
    }

    /// -32600 for a missing or ill-typed field.
    pub fn invalid(field: &'static str) -> Self {
        RpcError::new(code::INVALID_REQUEST).with_data(field)
    }

    pub fn system() -> Self {
        RpcError::new(code::SYSTEM)
    }

    /// `{ru, uz, en}` shown to the payer.
    pub fn message(&self) -> Value {
        let (ru, uz, en) = messages(self.code);
        json!({"ru": ru, "uz": uz, "en": en})
    }

    pub fn to_json(&self) -> Value {
        let mut e = Map::new();
        e.insert("code".into(), json!(self.code));
        e.insert("message".into(), self.message());
        if let Some(d) = &self.data {
            e.insert("data".into(), d.clone());
        }
        Value::Object(e)
    }
}

fn messages(c: i64) -> (&'static str, &'static str, &'static str) {
    match c {
        code::NOT_POST => (
            "Метод запроса не POST",
            "So'rov usuli POST emas",
            "Request method is not POST",
        ),
        code::PARSE => (
            "Ошибка разбора JSON",
            "JSON tahlilida xatolik",
            "JSON parse error",
        ),
        code::INVALID_REQUEST => (
            "Неверный RPC-запрос: отсутствует или неверного типа обязательное поле",
            "Noto'g'ri RPC so'rovi: majburiy maydon yo'q yoki turi noto'g'ri",
            "Invalid RPC request: a required field is missing or has the wrong type",
        ),
        code::METHOD_NOT_FOUND => ("Метод не найден", "Metod topilmadi", "Method not found"),
        code::INSUFFICIENT_PRIVILEGE => (
            "Недостаточно привилегий для выполнения метода",
            "Metodni bajarish uchun huquqlar yetarli emas",
            "Insufficient privilege to perform this method",
        ),
        code::WRONG_AMOUNT => ("Неверная сумма", "Noto'g'ri summa", "Incorrect amount"),
        code::TX_NOT_FOUND => (
            "Транзакция не найдена",
            "Tranzaksiya topilmadi",
            "Transaction not found",
        ),
        code::CANNOT_CANCEL => (
            "Заказ выполнен, отменить транзакцию невозможно",
            "Buyurtma bajarilgan, tranzaksiyani bekor qilib bo'lmaydi",
            "The order is fulfilled; the transaction cannot be cancelled",
        ),
        code::CANNOT_PERFORM => (
            "Невозможно выполнить операцию",
            "Amalni bajarib bo'lmaydi",
            "Unable to perform the operation",
        ),
        code::ORDER_NOT_FOUND => ("Заказ не найден", "Buyurtma topilmadi", "Order not found"),
        code::ORDER_NOT_PAYABLE => (
            "Заказ больше не ожидает оплаты",
            "Buyurtma endi to'lovni kutmayapti",
            "The order is no longer awaiting payment",
        ),
        _ => ("Системная ошибка", "Tizim xatosi", "System error"),
    }
}

/// The success body.
pub fn ok_body(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// The error body.
pub fn err_body(id: &Value, e: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": e.to_json()})
}

/// Check `Authorization: Basic base64(login:key)` against the live key and, in sandbox mode, the
/// TEST_KEY. The whole decoded `login:key` is compared in constant time (per candidate, and both
/// candidates are always compared). An empty key never matches.
pub fn authorized(cfg: &Config, header: Option<&[u8]>) -> bool {
    let Some(h) = header else { return false };
    let Some(rest) = strip_prefix_ci(h, b"basic ") else {
        return false;
    };
    let rest = trim_ascii(rest);
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest) else {
        return false;
    };
    let mut ok = subtle::Choice::from(0u8);
    let login = cfg.payme.login.as_bytes();
    let keys: [(&str, bool); 2] = [
        (cfg.payme.key.expose(), true),
        (cfg.payme.test_key.expose(), cfg.mode.is_sandbox()),
    ];
    for (key, allowed) in keys {
        if key.is_empty() || !allowed {
            continue;
        }
        let mut expected = Vec::with_capacity(login.len() + 1 + key.len());
        expected.extend_from_slice(login);
        expected.push(b':');
        expected.extend_from_slice(key.as_bytes());
        ok |= expected.as_slice().ct_eq(decoded.as_slice());
    }
    bool::from(ok)
}

fn strip_prefix_ci<'a>(h: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    if h.len() >= prefix.len() && h[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&h[prefix.len()..])
    } else {
        None
    }
}

fn trim_ascii(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// The `Authorization` header value a Payme client sends.
pub fn basic_auth(login: &str, key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{login}:{key}"))
    )
}

// ---- strict readers for params fields (-32600 when missing or ill-typed) ----

/// The longest Payme transaction id we accept (their ids are 24 characters).
pub const MAX_PAYME_ID_LEN: usize = 64;
/// The longest order id we look up (the column is VARCHAR(100)).
pub const MAX_ORDER_ID_LEN: usize = 100;

/// `params.id`: a non-empty string of at most 64 characters.
pub fn payme_id(p: &Map<String, Value>) -> Result<&str, RpcError> {
    match p.get("id") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_PAYME_ID_LEN => Ok(s),
        _ => Err(RpcError::invalid("id")),
    }
}

/// A positive integer field that fits i64 (times, reasons are validated by their callers).
pub fn int_field(p: &Map<String, Value>, name: &'static str) -> Result<i64, RpcError> {
    match p.get(name) {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| RpcError::invalid(name)),
        _ => Err(RpcError::invalid(name)),
    }
}

/// A positive 13-digit-ish millisecond time (any positive i64 is accepted).
pub fn time_field(p: &Map<String, Value>, name: &'static str) -> Result<i64, RpcError> {
    let t = int_field(p, name)?;
    if t > 0 {
        Ok(t)
    } else {
        Err(RpcError::invalid(name))
    }
}

/// `params.amount`: must be a JSON number (else -32600). A number that is not a positive integer
/// is `None` (the caller answers -31001, payme.md §9).
pub fn amount_field(p: &Map<String, Value>) -> Result<Option<i64>, RpcError> {
    match p.get("amount") {
        Some(Value::Number(n)) => Ok(n.as_i64().filter(|a| *a > 0)),
        _ => Err(RpcError::invalid("amount")),
    }
}

/// `params.account` must be an object (else -32600). Its `order_id` is returned as a string
/// when it is a string or an integer of sane length; `None` means "no such order" (the caller
/// answers -31050 with `data: "order_id"` at the business step, payme.md §2.2).
pub fn order_id_field(p: &Map<String, Value>) -> Result<Option<String>, RpcError> {
    let Some(Value::Object(account)) = p.get("account") else {
        return Err(RpcError::invalid("account"));
    };
    let s = match account.get("order_id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => return Ok(None),
    };
    if s.is_empty() || s.chars().count() > MAX_ORDER_ID_LEN {
        return Ok(None);
    }
    Ok(Some(s))
}

/// A string field (at most `max` characters).
pub fn str_field<'a>(
    p: &'a Map<String, Value>,
    name: &'static str,
    max: usize,
) -> Result<&'a str, RpcError> {
    match p.get(name) {
        Some(Value::String(s)) if s.chars().count() <= max => Ok(s),
        _ => Err(RpcError::invalid(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(mode: &str) -> Config {
        let text = format!(
            "mode = \"{mode}\"\n[payme]\nmerchant_id = \"m\"\nkey = \"LIVE\"\ntest_key = \"TEST\"\n"
        );
        Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn auth_accepts_exact_credentials_only() {
        let c = cfg("sandbox");
        let ok = |h: &str| authorized(&c, Some(h.as_bytes()));
        assert!(ok(&basic_auth("Paycom", "LIVE")));
        assert!(ok(&basic_auth("Paycom", "TEST")));
        assert!(ok(&basic_auth("Paycom", "LIVE").replace("Basic", "basic")));
        assert!(!ok(&basic_auth("Paycom", "LIV")));
        assert!(!ok(&basic_auth("Paycom", "LIVEX")));
        assert!(!ok(&basic_auth("paycom", "LIVE")));
        assert!(!ok(&basic_auth("Other", "LIVE")));
        assert!(!ok(&basic_auth("", "LIVE")));
        assert!(!ok(&basic_auth("Paycom", "")));
        assert!(!ok("Bearer LIVE"));
        assert!(!ok("Basic !!!notbase64"));
        assert!(!ok("Basic"));
        assert!(!ok(""));
        assert!(!authorized(&c, None));
        let live = cfg("live");
        assert!(authorized(
            &live,
            Some(basic_auth("Paycom", "LIVE").as_bytes())
        ));
        assert!(!authorized(
            &live,
            Some(basic_auth("Paycom", "TEST").as_bytes())
        ));
    }

    #[test]
    fn every_code_has_three_languages() {
        for c in [
            -32300, -32700, -32600, -32601, -32504, -32400, -31001, -31003, -31007, -31008, -31050,
            -31051,
        ] {
            let m = RpcError::new(c).message();
            for l in ["ru", "uz", "en"] {
                assert!(m[l].as_str().is_some_and(|s| !s.is_empty()), "{c} {l}");
            }
            if c != code::SYSTEM {
                assert_ne!(m["en"], "System error", "{c}");
            }
        }
    }
}
