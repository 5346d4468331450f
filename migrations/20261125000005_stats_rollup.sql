-- Dashboard numbers at 100,000+ payments: an hourly rollup of `payments` kept exact by triggers,
-- so `Store::stats` sums a few thousand rows instead of scanning every payment ten times.
-- Staff comps are not excluded here (a comp is a payments row first, its staff_comps row second);
-- the stats subtract them from a join over the (few) staff_comps rows.
CREATE TABLE stats_hourly (
    hour            TEXT NOT NULL,                  -- substr(created_at, 1, 13): 'YYYY-MM-DD HH' UTC
    payment_type    VARCHAR(20) NOT NULL,
    template_name   VARCHAR(50) NOT NULL,           -- '' for legacy amount orders (NULL)
    status          VARCHAR(20) NOT NULL,
    refunded        INTEGER NOT NULL,               -- 1 when cancel_reason = 'staff:refund'
    payments        INTEGER NOT NULL,
    amount          INTEGER NOT NULL,
    PRIMARY KEY (hour, payment_type, template_name, status, refunded)
) WITHOUT ROWID;

INSERT INTO stats_hourly (hour, payment_type, template_name, status, refunded, payments, amount)
SELECT substr(created_at, 1, 13), payment_type, COALESCE(template_name, ''), status,
       cancel_reason IS 'staff:refund', COUNT(*), SUM(amount)
FROM payments
GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER stats_hourly_insert AFTER INSERT ON payments
BEGIN
    INSERT INTO stats_hourly (hour, payment_type, template_name, status, refunded, payments, amount)
    VALUES (substr(NEW.created_at, 1, 13), NEW.payment_type, COALESCE(NEW.template_name, ''),
            NEW.status, NEW.cancel_reason IS 'staff:refund', 1, NEW.amount)
    ON CONFLICT (hour, payment_type, template_name, status, refunded)
    DO UPDATE SET payments = payments + 1, amount = amount + excluded.amount;
END;

CREATE TRIGGER stats_hourly_delete AFTER DELETE ON payments
BEGIN
    UPDATE stats_hourly SET payments = payments - 1, amount = amount - OLD.amount
    WHERE hour = substr(OLD.created_at, 1, 13) AND payment_type = OLD.payment_type
      AND template_name = COALESCE(OLD.template_name, '') AND status = OLD.status
      AND refunded = (OLD.cancel_reason IS 'staff:refund');
    DELETE FROM stats_hourly
    WHERE hour = substr(OLD.created_at, 1, 13) AND payment_type = OLD.payment_type
      AND template_name = COALESCE(OLD.template_name, '') AND status = OLD.status
      AND refunded = (OLD.cancel_reason IS 'staff:refund') AND payments = 0;
END;

CREATE TRIGGER stats_hourly_update
AFTER UPDATE OF created_at, payment_type, template_name, status, cancel_reason, amount ON payments
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.payment_type IS NOT NEW.payment_type
  OR OLD.template_name IS NOT NEW.template_name OR OLD.status IS NOT NEW.status
  OR OLD.cancel_reason IS NOT NEW.cancel_reason OR OLD.amount IS NOT NEW.amount
BEGIN
    UPDATE stats_hourly SET payments = payments - 1, amount = amount - OLD.amount
    WHERE hour = substr(OLD.created_at, 1, 13) AND payment_type = OLD.payment_type
      AND template_name = COALESCE(OLD.template_name, '') AND status = OLD.status
      AND refunded = (OLD.cancel_reason IS 'staff:refund');
    INSERT INTO stats_hourly (hour, payment_type, template_name, status, refunded, payments, amount)
    VALUES (substr(NEW.created_at, 1, 13), NEW.payment_type, COALESCE(NEW.template_name, ''),
            NEW.status, NEW.cancel_reason IS 'staff:refund', 1, NEW.amount)
    ON CONFLICT (hour, payment_type, template_name, status, refunded)
    DO UPDATE SET payments = payments + 1, amount = amount + excluded.amount;
    DELETE FROM stats_hourly
    WHERE hour = substr(OLD.created_at, 1, 13) AND payment_type = OLD.payment_type
      AND template_name = COALESCE(OLD.template_name, '') AND status = OLD.status
      AND refunded = (OLD.cancel_reason IS 'staff:refund') AND payments = 0;
END;
