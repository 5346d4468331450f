//! Queries on `click_transactions` (Click SHOP API).
