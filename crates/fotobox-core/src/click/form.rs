//! `application/x-www-form-urlencoded` bodies, parsed by hand so that every malformed body is
//! a Click `-8` answer (never a panic, never axum's plain-text rejection), and encoded for the
//! simulator. Values are kept exactly as received after percent-decoding: the signature is
//! computed over them.

/// Why a body is not a usable form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("bad percent-encoding")]
    BadEscape,
    #[error("not UTF-8")]
    NotUtf8,
    #[error("field {0:?} appears more than once")]
    Duplicate(String),
    #[error("more than {MAX_FIELDS} fields")]
    TooManyFields,
    #[error("a field name or value longer than {MAX_FIELD_BYTES} bytes")]
    FieldTooLong,
}

/// Most fields a body may have: Click sends 11 (click.md §5); the rest is refused unread.
pub const MAX_FIELDS: usize = 32;
/// Longest field name or value, encoded (the longest Click value, `error_note`, is short text).
pub const MAX_FIELD_BYTES: usize = 1024;

/// Decoded `(key, value)` pairs in body order; no key appears twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Parse a body. `+` is a space, `%XX` a byte; an invalid escape, invalid UTF-8 after
    /// decoding or a repeated key is an error (a repeated key makes the signed value ambiguous).
    /// Work is linear in the body and bounded: at most [`MAX_FIELDS`] fields of at most
    /// [`MAX_FIELD_BYTES`] each, so the duplicate check compares at most 32 keys.
    pub fn parse(body: &[u8]) -> Result<Form, FormError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for segment in body.split(|b| *b == b'&') {
            if segment.is_empty() {
                continue;
            }
            if pairs.len() == MAX_FIELDS {
                return Err(FormError::TooManyFields);
            }
            if segment.len() > 2 * MAX_FIELD_BYTES + 1 {
                return Err(FormError::FieldTooLong);
            }
            let (k, v) = match segment.iter().position(|b| *b == b'=') {
                Some(i) => (&segment[..i], &segment[i + 1..]),
                None => (segment, &b""[..]),
            };
            if k.len() > MAX_FIELD_BYTES || v.len() > MAX_FIELD_BYTES {
                return Err(FormError::FieldTooLong);
            }
            let key = decode(k)?;
            let value = decode(v)?;
            if pairs.iter().any(|(existing, _)| *existing == key) {
                return Err(FormError::Duplicate(key));
            }
            pairs.push((key, value));
        }
        Ok(Form { pairs })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The fields as a JSON object (for the event log; Click's callbacks carry no secret).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.pairs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(raw: &[u8]) -> Result<String, FormError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_val);
                let lo = raw.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => return Err(FormError::BadEscape),
                }
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| FormError::NotUtf8)
}

/// Percent-encode one key or value the way browsers and Click do (space as `+`).
pub fn encode_component(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// Encode pairs as a form body.
pub fn encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        encode_component(k, &mut out);
        out.push('=');
        encode_component(v, &mut out);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Form::parse(&body);
        }

        #[test]
        fn encode_then_parse_round_trips(
            pairs in proptest::collection::btree_map("\\PC{1,12}", "\\PC{0,24}", 0..8)
        ) {
            let body = encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let f = Form::parse(body.as_bytes()).unwrap();
            prop_assert_eq!(f.pairs().len(), pairs.len());
            for (k, v) in &pairs {
                prop_assert_eq!(f.get(k), Some(v.as_str()));
            }
        }
    }

    #[test]
    fn parses_a_real_callback_line() {
        let f = Form::parse(
            b"click_trans_id=3647911201&amount=38400&action=0&sign_time=2026-04-29+18%3A02%3A18&error=0&error_note=Success&merchant_prepare_id=",
        )
        .unwrap();
        assert_eq!(f.get("sign_time"), Some("2026-04-29 18:02:18"));
        assert_eq!(f.get("amount"), Some("38400"));
        assert_eq!(f.get("merchant_prepare_id"), Some(""));
        assert_eq!(f.get("nope"), None);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(Form::parse(b"a=%zz"), Err(FormError::BadEscape));
        assert_eq!(Form::parse(b"a=%4"), Err(FormError::BadEscape));
        assert_eq!(Form::parse(b"a=%ff"), Err(FormError::NotUtf8));
        assert_eq!(
            Form::parse(b"a=1&a=2"),
            Err(FormError::Duplicate("a".into()))
        );
    }

    #[test]
    fn hostile_bodies_are_refused_early() {
        // The attack of the doors issue: ~16,000 distinct three-letter keys in 64 KiB.
        let mut body = String::new();
        for i in 0..16_000u32 {
            if !body.is_empty() {
                body.push('&');
            }
            body.push_str(&format!("{:03x}", i % 4096));
            body.push_str(&format!("{i}"));
        }
        assert_eq!(Form::parse(body.as_bytes()), Err(FormError::TooManyFields));
        let long = format!("error_note={}", "x".repeat(MAX_FIELD_BYTES + 1));
        assert_eq!(Form::parse(long.as_bytes()), Err(FormError::FieldTooLong));
        let ok: String = (0..MAX_FIELDS)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(
            Form::parse(ok.as_bytes()).unwrap().pairs().len(),
            MAX_FIELDS
        );
    }

    #[test]
    fn round_trip() {
        let body = encode([("sign_time", "2025-11-25 15:04:05"), ("k&=", "ü%+")]);
        assert_eq!(
            body,
            "sign_time=2025-11-25+15%3A04%3A05&k%26%3D=%C3%BC%25%2B"
        );
        let f = Form::parse(body.as_bytes()).unwrap();
        assert_eq!(f.get("k&="), Some("ü%+"));
        assert_eq!(f.get("sign_time"), Some("2025-11-25 15:04:05"));
    }
}
