//! Queries on `payme_transactions` and `payme_fiscal_data` (Payme Merchant API).
