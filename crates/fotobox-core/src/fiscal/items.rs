//! The receipt items of a Click sale for `POST payment/ofd_data/submit_items` (click.md 10a):
//! tiyin everywhere, `Price` values that add up exactly to the amount paid, VAT inside each
//! line's total rounded half up. Pure functions of the order and `[fiscal]`.

use serde_json::{json, Value};

use crate::config::fiscal::FiscalConfig;

/// How the order's amount splits into receipt lines, in tiyin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// One line: `Amount` 1 at the whole total.
    Whole { total: i64 },
    /// The first copy (the layout's price) and `extra` further copies at `extra_price` each.
    Copies {
        first: i64,
        extra: i64,
        extra_price: i64,
    },
}

impl Split {
    /// The split of `total` tiyin for `copies` prints of a layout priced `layout` with
    /// `extra_copy` per further copy (tiyin): two lines when those prices give exactly the
    /// total, otherwise (one copy, a legacy amount order, prices changed since) one line.
    pub fn of(total: i64, copies: i64, prices: Option<(i64, i64)>) -> Split {
        let extra = copies.saturating_sub(1);
        match prices {
            Some((layout, extra_price))
                if extra > 0
                    && layout > 0
                    && extra_price > 0
                    && extra_price
                        .checked_mul(extra)
                        .and_then(|x| x.checked_add(layout))
                        == Some(total) =>
            {
                Split::Copies {
                    first: layout,
                    extra,
                    extra_price,
                }
            }
            _ => Split::Whole { total },
        }
    }

    /// (unit price, quantity) per line.
    fn lines(self) -> Vec<(i64, i64)> {
        match self {
            Split::Whole { total } => vec![(total, 1)],
            Split::Copies {
                first,
                extra,
                extra_price,
            } => vec![(first, 1), (extra_price, extra)],
        }
    }
}

/// The VAT inside `price` (VAT included) at `percent`, rounded half up:
/// `price × percent / (100 + percent)`.
pub fn vat_inside(price: i64, percent: u32) -> i64 {
    let p = i128::from(percent);
    let den = 100 + p;
    let v = (i128::from(price) * p * 2 + den) / (2 * den);
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Why the items cannot be built: the `[fiscal]` key that is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fiscal.{0} is not set")]
pub struct Missing(pub &'static str);

/// The `items` array, one object per line, from `[fiscal]`.
pub fn items(f: &FiscalConfig, split: Split) -> Result<Vec<Value>, Missing> {
    let name = f.title_text().ok_or(Missing("title"))?;
    let spic = f.ikpu().ok_or(Missing("ikpu_code"))?;
    let package = f.package().ok_or(Missing("package_code"))?;
    let percent = f.vat_percent.ok_or(Missing("vat_percent"))?;
    let (seller_key, seller) = f.seller().ok_or(Missing("tin"))?;
    Ok(split
        .lines()
        .into_iter()
        .map(|(unit, amount)| {
            let price = unit.saturating_mul(amount);
            let mut item = json!({
                "Name": name,
                "SPIC": spic,
                "PackageCode": package,
                "GoodPrice": unit,
                "Price": price,
                "Amount": amount,
                "VAT": vat_inside(price, percent),
                "VATPercent": percent,
                "CommissionInfo": {seller_key: seller},
            });
            if let Some(units) = f.units {
                item["Units"] = json!(units);
            }
            item
        })
        .collect())
}

/// The whole `submit_items` body: the items, and the total as paid by card (click.md 10a
/// [choice]: `received_card` = the total, the other two 0).
pub fn submit_body(
    f: &FiscalConfig,
    service_id: u64,
    payment_id: i64,
    split: Split,
) -> Result<Value, Missing> {
    let items = items(f, split)?;
    let total: i64 = items.iter().filter_map(|i| i["Price"].as_i64()).sum();
    Ok(json!({
        "service_id": service_id,
        "payment_id": payment_id,
        "items": items,
        "received_ecash": 0,
        "received_cash": 0,
        "received_card": total,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fiscal() -> FiscalConfig {
        FiscalConfig {
            ikpu_code: Some("10899002001000000".into()),
            package_code: Some("1512443".into()),
            vat_percent: Some(12),
            title: Some("Foto chop etish, dona".into()),
            units: Some(1),
            tin: Some("123456789".into()),
            ..FiscalConfig::default()
        }
    }

    #[test]
    fn vat_is_inside_the_price_and_rounds_half_up() {
        // click.md 10a's example: 4 000 000 × 12 / 112 = 428 571.4.
        assert_eq!(vat_inside(4_000_000, 12), 428_571);
        assert_eq!(vat_inside(2_000_000, 12), 214_286); // 214 285.71
        assert_eq!(vat_inside(1_000_000, 12), 107_143); // 107 142.86
        assert_eq!(vat_inside(56, 12), 6); // 6.0
        assert_eq!(vat_inside(28, 12), 3); // 3.0
        assert_eq!(vat_inside(14, 12), 2); // 1.5 → 2
        assert_eq!(vat_inside(5_000_000, 0), 0);
    }

    #[test]
    fn two_lines_when_the_prices_give_the_total_else_one() {
        assert_eq!(
            Split::of(3_000_000, 2, Some((2_000_000, 1_000_000))),
            Split::Copies {
                first: 2_000_000,
                extra: 1,
                extra_price: 1_000_000
            }
        );
        // Prices changed since the order: one line.
        assert_eq!(
            Split::of(3_000_000, 2, Some((2_500_000, 1_000_000))),
            Split::Whole { total: 3_000_000 }
        );
        assert_eq!(
            Split::of(2_000_000, 1, Some((2_000_000, 1_000_000))),
            Split::Whole { total: 2_000_000 }
        );
        assert_eq!(
            Split::of(4_000_000, 3, None),
            Split::Whole { total: 4_000_000 }
        );
    }

    #[test]
    fn prices_add_up_to_the_total_for_any_order() {
        for copies in 1..=10 {
            for (layout, extra) in [(2_000_000, 1_000_000), (2_500_000, 333_300), (1, 1)] {
                let total = layout + extra * (copies - 1);
                let body = submit_body(
                    &fiscal(),
                    12345,
                    1,
                    Split::of(total, copies, Some((layout, extra))),
                )
                .expect("body");
                let items = body["items"].as_array().expect("items");
                let sum: i64 = items.iter().map(|i| i["Price"].as_i64().expect("n")).sum();
                assert_eq!(sum, total);
                assert_eq!(body["received_card"], total);
                for i in items {
                    assert_eq!(
                        i["GoodPrice"].as_i64().expect("n") * i["Amount"].as_i64().expect("n"),
                        i["Price"].as_i64().expect("n")
                    );
                }
            }
        }
    }

    #[test]
    fn a_missing_key_is_named() {
        let mut f = fiscal();
        f.package_code = None;
        assert_eq!(
            items(&f, Split::Whole { total: 1 }),
            Err(Missing("package_code"))
        );
        let mut f = fiscal();
        f.tin = None;
        f.pinfl = Some("12345678901234".into());
        let i = items(&f, Split::Whole { total: 100 }).expect("items");
        assert_eq!(i[0]["CommissionInfo"], json!({"PINFL": "12345678901234"}));
    }
}
