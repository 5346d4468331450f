//! The customer's cancel racing a provider's payment: over many attempts, exactly one wins,
//! and the order's state, the answers and the event log agree.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::TestApp;
use fotobox_core::orders;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_versus_payment_exactly_one_outcome() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    let (mut paid, mut cancelled) = (0, 0);
    for i in 0..40u64 {
        let provider = if i % 2 == 0 { "payme" } else { "click" };
        let o = app.order(provider, "strip", 1).await;
        let id = o["order_id"].as_str().unwrap().to_string();
        let (ctx1, ctx2) = (app.ctx.clone(), app.ctx.clone());
        let (id1, id2) = (id.clone(), id.clone());
        // Vary the interleaving: the cancel starts up to ~2 ms later or earlier.
        let skew = std::time::Duration::from_micros((i * 397) % 2000);
        let pay = tokio::spawn(async move {
            if i % 4 < 2 {
                tokio::time::sleep(skew).await;
            }
            if i % 2 == 0 {
                fotobox_core::payme::simulator::pay_order(&ctx1, &id1)
                    .await
                    .map_err(|e| e.to_string())
            } else {
                fotobox_core::click::simulator::pay_order(&ctx1, &id1)
                    .await
                    .map_err(|e| e.to_string())
            }
        });
        let cancel = tokio::spawn(async move {
            if i % 4 >= 2 {
                tokio::time::sleep(skew).await;
            }
            orders::cancel_order(&ctx2, &id2).await
        });
        let (pay, cancel) = (pay.await.unwrap(), cancel.await.unwrap());
        let p = app
            .ctx
            .store
            .payment_by_order_id(&id)
            .await
            .unwrap()
            .unwrap();
        match p.status.as_str() {
            "success" => {
                paid += 1;
                assert!(
                    pay.is_ok(),
                    "{id}: paid but the payment path failed: {pay:?}"
                );
                let e = cancel.expect_err("a paid order is never cancelled by the kiosk");
                assert!(matches!(e, orders::OrderError::Conflict(_)), "{e}");
            }
            "canceled" => {
                cancelled += 1;
                assert_eq!(p.cancel_reason.as_deref(), Some("customer"));
                assert!(
                    cancel.is_ok(),
                    "{id}: cancelled but cancel failed: {cancel:?}"
                );
                assert!(
                    pay.is_err(),
                    "{id}: cancelled yet the payment answered success: {pay:?}"
                );
                assert!(p.perform_time.is_none());
            }
            other => {
                panic!("{id}: unexpected final status {other} (pay {pay:?}, cancel {cancel:?})")
            }
        }
        let events = app.ctx.store.events_for_payment(p.id).await.unwrap();
        let cancels = events
            .iter()
            .filter(|e| e.source == "kiosk" && e.kind == "cancel")
            .count();
        assert_eq!(
            cancels,
            usize::from(p.status == "canceled"),
            "{id}: {events:?}"
        );
    }
    assert_eq!(paid + cancelled, 40);
    server.shutdown().await;
}
