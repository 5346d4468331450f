//! Property tests of the request parser: random and truncated bodies, wrong types in every
//! field, huge numbers, unicode order ids. Each case: HTTP 200 with a JSON-RPC answer, the
//! expected error code, and no stored change.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::payme_support;

use common::TestApp;
use payme_support::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use serde_json::{json, Value};

struct Fixture {
    rt: tokio::runtime::Runtime,
    app: TestApp,
    order: String,
    amount: i64,
    /// A live (state 1) transaction, so Perform/Cancel/Check paths with a known id are exercised.
    live_id: String,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, order, amount, live_id) = rt.block_on(async {
        let app = TestApp::new().await;
        let (order, amount) = new_order(&app).await;
        let (o2, a2) = new_order(&app).await;
        create(&app, &hex24(0xabc), now_ms(&app), a2, &o2).await;
        (app, order, amount, hex24(0xabc))
    });
    Fixture {
        rt,
        app,
        order,
        amount,
        live_id,
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(PtConfig {
        cases,
        failure_persistence: None,
        ..PtConfig::default()
    })
}

/// Any JSON value (bounded depth and size).
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON values that are not integers fitting i64.
fn not_an_i64() -> impl Strategy<Value = Value> {
    any_json().prop_filter("not i64", |v| v.as_i64().is_none())
}

fn check_case(
    f: &Fixture,
    body: String,
    expect: impl Fn(&Value) -> Result<(), String>,
) -> Result<(), TestCaseError> {
    f.rt.block_on(async {
        let before = snapshot(&f.app).await;
        let v = post_raw(&f.app, Some(&test_auth()), body.clone()).await;
        if let Err(m) = expect(&v) {
            return Err(TestCaseError::fail(format!(
                "{m}\nbody: {body}\nanswer: {v}"
            )));
        }
        if v.get("error").is_some() && snapshot(&f.app).await != before {
            return Err(TestCaseError::fail(format!(
                "an error answer changed the store\nbody: {body}"
            )));
        }
        Ok(())
    })
}

fn code_is(v: &Value, codes: &[i64]) -> Result<(), String> {
    let c = v["error"]["code"].as_i64().ok_or("not an error answer")?;
    if !codes.contains(&c) {
        return Err(format!("code {c}, expected one of {codes:?}"));
    }
    for l in ["ru", "uz", "en"] {
        if v["error"]["message"][l].as_str().is_none() {
            return Err(format!("message.{l} missing"));
        }
    }
    Ok(())
}

#[test]
fn random_bytes_never_panic_and_never_change_anything() {
    let f = fixture();
    runner(300)
        .run(&prop::collection::vec(any::<u8>(), 0..300), |bytes| {
            let body = String::from_utf8_lossy(&bytes).to_string();
            check_case(&f, body, |v| {
                // Random bytes are almost never JSON; if they are, they are no valid request.
                code_is(v, &[-32700, -32600, -32601])
            })
        })
        .unwrap();
}

#[test]
fn truncated_requests_are_parse_errors_with_null_id() {
    let f = fixture();
    let full = json!({"id": 123456, "method": "CreateTransaction",
                      "params": create_params(&hex24(0x77), 1_700_000_000_000, f.amount, &f.order)})
    .to_string();
    let len = full.len();
    runner(200)
        .run(&(0..len), |cut| {
            check_case(&f, full[..cut].to_string(), |v| {
                code_is(v, &[-32700])?;
                if v["id"] != Value::Null {
                    return Err("id must be null".into());
                }
                Ok(())
            })
        })
        .unwrap();
}

type FieldCase = (
    &'static str,
    Value,
    &'static str,
    BoxedStrategy<Value>,
    Vec<i64>,
);

#[test]
fn wrong_types_in_every_field_get_the_right_code() {
    let f = fixture();
    let (order, amount, live) = (f.order.clone(), f.amount, f.live_id.clone());
    let now = f.rt.block_on(async { now_ms(&f.app) });
    // (method, valid params, field, strategy of wrong values, expected codes)
    let cases: Vec<FieldCase> = vec![
        (
            "CreateTransaction",
            create_params(&hex24(0x99), now, amount, &order),
            "id",
            any_json()
                .prop_filter("not a string", |v| !v.is_string())
                .boxed(),
            vec![-32600],
        ),
        (
            "CreateTransaction",
            create_params(&hex24(0x99), now, amount, &order),
            "time",
            not_an_i64().boxed(),
            vec![-32600],
        ),
        (
            "CreateTransaction",
            create_params(&hex24(0x99), now, amount, &order),
            "amount",
            any_json()
                .prop_filter("not a number", |v| !v.is_number())
                .boxed(),
            vec![-32600],
        ),
        (
            "CreateTransaction",
            create_params(&hex24(0x99), now, amount, &order),
            "account",
            any_json()
                .prop_filter("not an object", |v| !v.is_object())
                .boxed(),
            vec![-32600],
        ),
        (
            "CheckPerformTransaction",
            json!({"amount": amount, "account": {"order_id": order}}),
            "amount",
            any_json()
                .prop_filter("not a number", |v| !v.is_number())
                .boxed(),
            vec![-32600],
        ),
        (
            "CheckPerformTransaction",
            json!({"amount": amount, "account": {"order_id": order}}),
            "account",
            any_json()
                .prop_filter("not an object", |v| !v.is_object())
                .boxed(),
            vec![-32600],
        ),
        (
            "PerformTransaction",
            json!({"id": live}),
            "id",
            any_json()
                .prop_filter("not a string", |v| !v.is_string())
                .boxed(),
            vec![-32600],
        ),
        (
            "CancelTransaction",
            json!({"id": live, "reason": 3}),
            "id",
            any_json()
                .prop_filter("not a string", |v| !v.is_string())
                .boxed(),
            vec![-32600],
        ),
        (
            "CancelTransaction",
            json!({"id": live, "reason": 3}),
            "reason",
            not_an_i64().boxed(),
            vec![-32600],
        ),
        (
            "CheckTransaction",
            json!({"id": live}),
            "id",
            any_json()
                .prop_filter("not a string", |v| !v.is_string())
                .boxed(),
            vec![-32600],
        ),
        (
            "GetStatement",
            json!({"from": 1, "to": 2}),
            "from",
            not_an_i64().boxed(),
            vec![-32600],
        ),
        (
            "GetStatement",
            json!({"from": 1, "to": 2}),
            "to",
            not_an_i64().boxed(),
            vec![-32600],
        ),
        (
            "SetFiscalData",
            json!({"id": live, "type": "PERFORM", "fiscal_data": {}}),
            "fiscal_data",
            any_json()
                .prop_filter("not an object", |v| !v.is_object())
                .boxed(),
            vec![-32600],
        ),
        (
            "SetFiscalData",
            json!({"id": live, "type": "PERFORM", "fiscal_data": {}}),
            "type",
            any_json()
                .prop_filter("not PERFORM/CANCEL", |v| v != "PERFORM" && v != "CANCEL")
                .boxed(),
            vec![-32600],
        ),
    ];
    for (method, params, field, strat, codes) in cases {
        runner(40)
            .run(&strat, |wrong| {
                let mut p = params.clone();
                p[field] = wrong;
                let body = json!({"id": 1, "method": method, "params": p}).to_string();
                check_case(&f, body, |v| code_is(v, &codes))
            })
            .unwrap_or_else(|e| panic!("{method}.{field}: {e}"));
    }
    // The envelope: method and params of the wrong type.
    runner(60)
        .run(
            &(
                any_json().prop_filter("not a string", |v| !v.is_string()),
                any_json(),
            ),
            |(m, p)| {
                let body = json!({"id": 1, "method": m, "params": p}).to_string();
                check_case(&f, body, |v| code_is(v, &[-32600]))
            },
        )
        .unwrap();
}

#[test]
fn huge_and_odd_numbers_in_amount_and_time() {
    let f = fixture();
    let order = f.order.clone();
    let digits = "[1-9][0-9]{19,80}";
    runner(60)
        .run(&(digits, prop::bool::ANY), |(big, neg)| {
            let big = if neg { format!("-{big}") } else { big };
            // Raw text so the number is exactly as written.
            let cp = format!(r#"{{"id":1,"method":"CheckPerformTransaction","params":{{"amount":{big},"account":{{"order_id":"{order}"}}}}}}"#);
            check_case(&f, cp, |v| code_is(v, &[-31001]))?;
            let cr = format!(r#"{{"id":1,"method":"CreateTransaction","params":{{"id":"x","time":{big},"amount":1,"account":{{"order_id":"{order}"}}}}}}"#);
            check_case(&f, cr, |v| code_is(v, &[-32600]))
        })
        .unwrap();
    // Out of f64 range is not JSON serde can read: a parse error.
    check_case(
        &f,
        r#"{"id":1,"method":"GetStatement","params":{"from":1e400,"to":2}}"#.into(),
        |v| code_is(v, &[-32700]),
    )
    .unwrap();
    // Fractions and non-positive amounts: -31001.
    runner(60)
        .run(&prop_oneof![any::<f64>().prop_filter("finite non-integer", |x| x.is_finite() && x.fract() != 0.0).prop_map(|x| json!(x)),
                          (i64::MIN..=0).prop_map(|x| json!(x))], |a| {
            let body = json!({"id": 1, "method": "CheckPerformTransaction", "params": {"amount": a, "account": {"order_id": order}}}).to_string();
            check_case(&f, body, |v| code_is(v, &[-31001]))
        })
        .unwrap();
}

#[test]
fn unicode_order_ids_are_unknown_orders() {
    let f = fixture();
    let amount = f.amount;
    runner(150)
        .run(&"\\PC{0,120}", |oid| {
            let body = json!({"id": 1, "method": "CreateTransaction",
                              "params": create_params(&hex24(0x55), 1_700_000_000_000, amount, &oid)}).to_string();
            check_case(&f, body, |v| {
                code_is(v, &[-31050])?;
                if v["error"]["data"] != json!("order_id") {
                    return Err("data must be order_id".into());
                }
                Ok(())
            })?;
            let body = json!({"id": 1, "method": "CheckPerformTransaction",
                              "params": {"amount": amount, "account": {"order_id": oid}}}).to_string();
            check_case(&f, body, |v| code_is(v, &[-31050]))
        })
        .unwrap();
}
