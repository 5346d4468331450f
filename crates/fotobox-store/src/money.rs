//! Money: [`Sum`], an amount in whole sum (UZS), the unit of our data and APIs. Tiyin (1/100 of
//! a sum) appear only at the Payme and Click edges, through [`Sum::to_tiyin`] and
//! [`Sum::from_tiyin`].

use serde::{Deserialize, Serialize};

/// An amount in whole sum. Stored and serialized as the bare integer.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct Sum(i64);

impl Sum {
    pub const ZERO: Sum = Sum(0);

    pub const fn new(whole: i64) -> Sum {
        Sum(whole)
    }

    /// The amount in whole sum.
    pub const fn whole(self) -> i64 {
        self.0
    }

    /// The amount in tiyin, for a provider's wire format; `None` on overflow.
    pub fn to_tiyin(self) -> Option<i64> {
        self.0.checked_mul(100)
    }

    /// A provider's tiyin amount as whole sum; `None` unless it is a whole number of sum.
    pub fn from_tiyin(tiyin: i64) -> Option<Sum> {
        (tiyin % 100 == 0).then_some(Sum(tiyin / 100))
    }
}

impl From<i64> for Sum {
    fn from(whole: i64) -> Self {
        Sum(whole)
    }
}

impl PartialEq<i64> for Sum {
    fn eq(&self, other: &i64) -> bool {
        self.0 == *other
    }
}

impl std::fmt::Display for Sum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiyin_only_through_the_edges() {
        assert_eq!(Sum::new(15_000).to_tiyin(), Some(1_500_000));
        assert_eq!(Sum::from_tiyin(1_500_000), Some(Sum::new(15_000)));
        assert_eq!(Sum::from_tiyin(1_500_050), None, "no fractions of a sum");
        assert_eq!(Sum::new(i64::MAX).to_tiyin(), None);
        assert_eq!(
            serde_json::to_string(&Sum::new(25_000)).ok().as_deref(),
            Some("25000")
        );
    }
}
