//! The happy path on a real CUPS down to the "paper": a paid order prints through the private
//! cupsd to a cups-pdf queue, and the PDF that comes out holds one 4x6 page per copy.

use std::time::{Duration, Instant};

use crate::common::TestApp;
use crate::cups_support::{pdf_pages, PdfQueue};
use crate::photos_support::{job_of, paid_order, payment_of, shots};
use fotobox_core::photos::{self, Failpoint};

/// 4x6 inches in points, as `media=w288h432` names it.
const PAGE_4X6: (f64, f64) = (288.0, 432.0);

/// A paid order of two copies goes through `lp` to the cups-pdf queue; CUPS completes the job,
/// and the PDF it made has two pages of 288x432 pt; the order is fulfilled and the paper
/// counter went down by the copies.
#[tokio::test]
async fn a_paid_order_comes_out_of_cups_pdf_as_one_4x6_page_per_copy() {
    let Some(queue) = PdfQueue::new("a_paid_order_comes_out_of_cups_pdf_as_one_4x6_page_per_copy")
    else {
        return;
    };
    let copies = 2;
    let extra = format!(
        "{}[printer.layouts.strip]\nmedia = \"w288h432\"\n",
        queue.config(50)
    );
    let app = TestApp::with_extra(&extra).await;
    let ctx = &app.ctx;
    let order = paid_order(ctx, "strip", copies).await;
    photos::hooks::create_photo_with(ctx, &order, shots(4), Failpoint::default())
        .await
        .unwrap();
    // process_queue returns once CUPS reports the job completed (cups-pdf has exited).
    let report = photos::process_queue(ctx).await.unwrap();
    assert_eq!(
        report.printed,
        1,
        "{report:?}\ncups-pdf log:\n{}",
        queue.log()
    );

    let p = payment_of(ctx, &order).await;
    let job = job_of(ctx, &order).await;
    assert_eq!((job.state.as_str(), job.copies), ("done", copies));
    assert!(p.fulfilled_at.is_some(), "{p:?}");
    assert_eq!(photos::paper(ctx).await.unwrap().remaining, 50 - copies);

    let printer_job = job.printer_job_id.clone().unwrap();
    let n: u64 = printer_job.rsplit('-').next().unwrap().parse().unwrap();
    let pdf = queue.pdf_path(n, job.submit_token.as_deref().unwrap());
    // The file is complete when the job is; a short grace for a slow file system.
    let until = Instant::now() + Duration::from_secs(5);
    while !pdf.exists() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        pdf.exists(),
        "no {} for {printer_job}; {} holds {:?}\ncups-pdf log:\n{}",
        pdf.display(),
        queue.out.display(),
        std::fs::read_dir(&queue.out)
            .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
            .unwrap_or_default(),
        queue.log()
    );
    let (pages, sizes) = pdf_pages(&pdf);
    let _ = std::fs::remove_file(&pdf);
    assert_eq!(pages, copies as u32, "one page per copy: {sizes:?}");
    assert_eq!(sizes.len(), pages as usize, "{sizes:?}");
    for (w, h) in sizes {
        assert!(
            (w - PAGE_4X6.0).abs() < 1.0 && (h - PAGE_4X6.1).abs() < 1.0,
            "page {w}x{h} pt, want 4x6 = {PAGE_4X6:?}"
        );
    }
}
