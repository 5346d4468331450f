//! Click's `amount` (so'm as a decimal string such as `15000`, `15000.00`, `33139.73`) parsed
//! exactly to tiyin (1/100 so'm). No floating point anywhere.

/// Why an amount string is not a whole number of tiyin we can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a plain non-negative decimal (`digits[.digits]`): a malformed parameter (-8).
    #[error("not a decimal number")]
    Malformed,
    /// A valid decimal that no order can cost: fractions of a tiyin or beyond i64 (-2).
    #[error("not a whole number of tiyin")]
    Unrepresentable,
}

/// Parse `digits[.digits]` exactly into tiyin. Leading zeros and trailing zero decimals are
/// allowed (`015000.000` is 1_500_000); signs, exponents, spaces, `.5` and `5.` are malformed.
pub fn parse_tiyin(s: &str) -> Result<i64, AmountError> {
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AmountError::Malformed);
    }
    let frac = frac_part.unwrap_or("");
    if frac_part.is_some() && frac.is_empty() {
        return Err(AmountError::Malformed);
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AmountError::Malformed);
    }
    let mut tiyin: i64 = 0;
    for b in int_part.bytes() {
        tiyin = tiyin
            .checked_mul(10)
            .and_then(|t| t.checked_add(i64::from(b - b'0')))
            .ok_or(AmountError::Unrepresentable)?;
    }
    let fb = frac.as_bytes();
    let d1 = fb.first().map_or(0, |b| i64::from(b - b'0'));
    let d2 = fb.get(1).map_or(0, |b| i64::from(b - b'0'));
    if fb.iter().skip(2).any(|b| *b != b'0') {
        return Err(AmountError::Unrepresentable);
    }
    tiyin
        .checked_mul(100)
        .and_then(|t| t.checked_add(d1 * 10 + d2))
        .ok_or(AmountError::Unrepresentable)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(parse_tiyin("15000"), Ok(1_500_000));
        assert_eq!(parse_tiyin("15000.00"), Ok(1_500_000));
        assert_eq!(parse_tiyin("15000.0"), Ok(1_500_000));
        assert_eq!(parse_tiyin("15000.000"), Ok(1_500_000));
        assert_eq!(parse_tiyin("33139.73"), Ok(3_313_973));
        assert_eq!(parse_tiyin("0.1"), Ok(10));
        assert_eq!(parse_tiyin("0"), Ok(0));
        assert_eq!(parse_tiyin("015000"), Ok(1_500_000));
        assert_eq!(parse_tiyin("15000.001"), Err(AmountError::Unrepresentable));
        assert_eq!(
            parse_tiyin("99999999999999999999"),
            Err(AmountError::Unrepresentable)
        );
        assert_eq!(parse_tiyin("92233720368547758.07"), Ok(i64::MAX));
        assert_eq!(
            parse_tiyin("92233720368547758.08"),
            Err(AmountError::Unrepresentable)
        );
        for bad in [
            "", ".", "5.", ".5", "-1", "+1", "1e4", " 1", "1 ", "1,5", "1.2.3", "0x10", "١٢",
        ] {
            assert_eq!(parse_tiyin(bad), Err(AmountError::Malformed), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_tiyin(&s);
        }

        #[test]
        fn whole_sum_in_any_rendering(sum in 0i64..=1_000_000_000_000, zeros in 0usize..6) {
            let want = sum * 100;
            prop_assert_eq!(parse_tiyin(&sum.to_string()), Ok(want));
            let frac = "0".repeat(zeros);
            if zeros > 0 {
                prop_assert_eq!(parse_tiyin(&format!("{sum}.{frac}")), Ok(want));
            }
            prop_assert_eq!(parse_tiyin(&format!("{sum}.00")), Ok(want));
        }

        #[test]
        fn matches_integer_arithmetic(sum in 0i64..=1_000_000_000_000, t in 0i64..100) {
            prop_assert_eq!(parse_tiyin(&format!("{sum}.{t:02}")), Ok(sum * 100 + t));
            if t % 10 == 0 {
                prop_assert_eq!(parse_tiyin(&format!("{sum}.{}", t / 10)), Ok(sum * 100 + t));
            }
        }

        #[test]
        fn sub_tiyin_is_never_equal(sum in 0i64..=1_000_000_000, t in 0i64..100, extra in 1u32..10) {
            prop_assert_eq!(
                parse_tiyin(&format!("{sum}.{t:02}{extra}")),
                Err(AmountError::Unrepresentable)
            );
        }

        #[test]
        fn ok_only_for_plain_decimals(s in "[0-9.+eE -]{0,12}") {
            let plain = {
                let mut parts = s.splitn(2, '.');
                let i = parts.next().unwrap_or("");
                let f = parts.next();
                !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit())
                    && f.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
            };
            if !plain {
                prop_assert_eq!(parse_tiyin(&s), Err(AmountError::Malformed));
            }
        }
    }
}
