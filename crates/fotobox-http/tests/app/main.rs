//! The application's integration tests, one binary: the app is spawned per test (routers
//! through `oneshot`, or both listeners on port 0 with a fresh database) and driven through its
//! doors: the REST API, the provider callbacks, the photo pipeline, the staff panel and the
//! unattended-operation tasks. Shared helpers live in `common` and the `*_support` modules.
#![allow(clippy::unwrap_used)]

mod click_fake;
mod common;
mod cups_support;
mod maintenance_support;
mod payme_support;
mod photos_support;

mod api;
mod click_callbacks;
mod disk_full;
mod doctor;
mod doors;
mod fiscal_click;
mod fiscal_payme;
mod fiscal_receipts;
mod journal;
mod kiosk;
mod kiosk_key;
mod maintenance_alerts;
mod maintenance_backups;
mod maintenance_click;
mod maintenance_recovery;
mod maintenance_tunnel;
mod payme_concurrency;
mod payme_conformance;
mod payme_fuzz;
mod payme_simulator;
mod payme_statement;
mod photos_download;
mod photos_print;
mod photos_resume;
mod printer_cups;
mod printer_pdf;
mod race;
mod reconcile;
mod refunds;
mod selftest;
mod sound;
mod staff_panel;
mod staff_reprint;
mod store;
