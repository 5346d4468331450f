//! Store benchmarks at 100,000 payments: the staff list (first page, filtered page, deep page),
//! the stats, a status read and an order creation (with QR) under `synchronous=FULL`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use fotobox_core::orders::{self, OrderRequest};
use fotobox_core::{AppContext, Config};
use fotobox_store::model::{PaymentStatus, Provider};
use fotobox_store::ListFilter;

const ROWS: i64 = 100_000;

async fn seeded() -> (AppContext, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::sandbox_default();
    cfg.data_dir = Some(dir.path().to_path_buf());
    let ctx = AppContext::new(cfg).await.unwrap();
    // Bulk seed in one transaction: 100k payments over 60 days, ~70% paid, ~20% cancelled.
    let mut tx = ctx.store.begin_write().await.unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO payments (order_id, transaction_id, amount, payment_type, status, create_time,
                               template_name, copies, expires_at, created_at, updated_at)
         SELECT printf('S%08d', i),
                CASE WHEN i % 10 < 7 THEN printf('T%08d', i) END,
                20000 + (i % 3) * 5000,
                CASE WHEN i % 2 = 0 THEN 'payme' ELSE 'click' END,
                CASE WHEN i % 10 < 7 THEN 'success' WHEN i % 10 < 9 THEN 'canceled' ELSE 'pending' END,
                t, 'strip', 1, t, t, t
         FROM (SELECT i, strftime('%Y-%m-%d %H:%M:%f', 'now', printf('-%d seconds', i * 51)) AS t FROM n)",
    )
    .bind(ROWS)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let any = "S00050000".to_string();
    (ctx, dir, any)
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ctx, _dir, some_order) = rt.block_on(seeded());
    assert_eq!(rt.block_on(ctx.store.count_payments()).unwrap(), ROWS);

    let mut g = c.benchmark_group("store_100k");
    g.measurement_time(Duration::from_secs(4));
    g.sample_size(30);
    g.bench_function("list_first_page", |b| {
        b.to_async(&rt).iter(|| async {
            ctx.store
                .list_payments(&ListFilter::default(), 100, 0)
                .await
                .unwrap()
        })
    });
    let success = ListFilter {
        status: Some(PaymentStatus::Success),
        ..ListFilter::default()
    };
    g.bench_function("list_success_page", |b| {
        b.to_async(&rt)
            .iter(|| async { ctx.store.list_payments(&success, 100, 0).await.unwrap() })
    });
    g.bench_function("list_page_500", |b| {
        b.to_async(&rt).iter(|| async {
            ctx.store
                .list_payments(&ListFilter::default(), 100, 50_000)
                .await
                .unwrap()
        })
    });
    g.bench_function("stats", |b| {
        b.to_async(&rt)
            .iter(|| async { ctx.store.stats(Utc::now()).await.unwrap() })
    });
    g.bench_function("payment_status", |b| {
        b.to_async(&rt)
            .iter(|| async { orders::payment_status(&ctx, &some_order).await.unwrap() })
    });
    g.bench_function("create_order_with_qr", |b| {
        b.to_async(&rt).iter(|| async {
            orders::create_order(
                &ctx,
                OrderRequest::Priced {
                    provider: Provider::Payme,
                    template: "strip".into(),
                    copies: 1,
                },
            )
            .await
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(store, benches);
criterion_main!(store);
