//! Click's `sign_string` (click.md §5): lowercase hex MD5 over raw received strings.

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// The raw strings that enter the hash, exactly as received.
#[derive(Debug, Clone, Copy)]
pub struct SignFields<'a> {
    pub click_trans_id: &'a str,
    pub service_id: &'a str,
    pub merchant_trans_id: &'a str,
    /// Used only when `action_is_complete` (the Complete formula).
    pub merchant_prepare_id: &'a str,
    pub amount: &'a str,
    pub action: &'a str,
    pub sign_time: &'a str,
    /// Whether `action` is 1: only then does `merchant_prepare_id` enter the hash.
    pub action_is_complete: bool,
}

/// The exact MD5 input (useful for tests and diagnostics; contains the secret, never log it).
pub fn sign_input(f: &SignFields<'_>, secret: &str) -> String {
    let mut s = String::with_capacity(128);
    s.push_str(f.click_trans_id);
    s.push_str(f.service_id);
    s.push_str(secret);
    s.push_str(f.merchant_trans_id);
    if f.action_is_complete {
        s.push_str(f.merchant_prepare_id);
    }
    s.push_str(f.amount);
    s.push_str(f.action);
    s.push_str(f.sign_time);
    s
}

/// The expected `sign_string`: 32 lowercase hex characters.
pub fn sign(f: &SignFields<'_>, secret: &str) -> String {
    let digest = Md5::digest(sign_input(f, secret).as_bytes());
    let mut out = String::with_capacity(32);
    for b in digest {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// Constant-time comparison of the received `sign_string` (lower-cased first) with ours.
/// Never true for an empty secret: anyone can compute that signature.
pub fn verify(f: &SignFields<'_>, secret: &str, received: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let expected = sign(f, secret);
    let received = received.to_ascii_lowercase();
    bool::from(expected.as_bytes().ct_eq(received.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(
        amount: &'static str,
        action: &'static str,
        time: &'static str,
    ) -> SignFields<'static> {
        SignFields {
            click_trans_id: "3647911201",
            service_id: "12345",
            merchant_trans_id: "K1-20251125-0007",
            merchant_prepare_id: "987",
            amount,
            action,
            sign_time: time,
            action_is_complete: action == "1",
        }
    }

    // click.md §5, worked example, row 1.
    #[test]
    fn prepare_worked_example() {
        let f = example("15000.00", "0", "2025-11-25 15:04:05");
        assert_eq!(
            sign_input(&f, "TEST_SECRET_KEY"),
            "364791120112345TEST_SECRET_KEYK1-20251125-000715000.0002025-11-25 15:04:05"
        );
        assert_eq!(
            sign(&f, "TEST_SECRET_KEY"),
            "61dbcba20c68d9ce1e97a207269469cf"
        );
        assert!(verify(
            &f,
            "TEST_SECRET_KEY",
            "61dbcba20c68d9ce1e97a207269469cf"
        ));
        assert!(verify(
            &f,
            "TEST_SECRET_KEY",
            "61DBCBA20C68D9CE1E97A207269469CF"
        ));
        assert!(!verify(
            &f,
            "OTHER_SECRET",
            "61dbcba20c68d9ce1e97a207269469cf"
        ));
        assert!(!verify(
            &f,
            "TEST_SECRET_KEY",
            "61dbcba20c68d9ce1e97a207269469c"
        ));
        assert!(!verify(&f, "TEST_SECRET_KEY", ""));
    }

    // Row 2: the amount is hashed as sent, "15000" differs from "15000.00".
    #[test]
    fn prepare_integer_amount_example() {
        let f = example("15000", "0", "2025-11-25 15:04:05");
        assert_eq!(
            sign_input(&f, "TEST_SECRET_KEY"),
            "364791120112345TEST_SECRET_KEYK1-20251125-00071500002025-11-25 15:04:05"
        );
        assert_eq!(
            sign(&f, "TEST_SECRET_KEY"),
            "e5a89606f1d3015d989600512ece2926"
        );
        assert!(!verify(
            &f,
            "TEST_SECRET_KEY",
            "61dbcba20c68d9ce1e97a207269469cf"
        ));
    }

    // Row 3: Complete includes merchant_prepare_id.
    #[test]
    fn complete_worked_example() {
        let f = example("15000.00", "1", "2025-11-25 15:04:41");
        assert_eq!(
            sign_input(&f, "TEST_SECRET_KEY"),
            "364791120112345TEST_SECRET_KEYK1-20251125-000798715000.0012025-11-25 15:04:41"
        );
        assert_eq!(
            sign(&f, "TEST_SECRET_KEY"),
            "82f97b6e4cbfaa3c062416868af5e469"
        );
    }

    // Any action but 1 uses the Prepare formula (merchant_prepare_id left out).
    #[test]
    fn invalid_action_uses_prepare_formula() {
        let f = example("15000.00", "2", "2025-11-25 15:04:05");
        assert!(!sign_input(&f, "S").contains("987"));
    }
}
