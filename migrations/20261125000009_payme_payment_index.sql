-- The reconciliation (and txs_for_payment) find an order's Payme transactions by payment_id; the
-- only index on it was the partial one of live (1, 2) transactions, so a day's reconciliation
-- scanned the whole table once per order.
CREATE INDEX idx_payme_payment ON payme_transactions(payment_id);
