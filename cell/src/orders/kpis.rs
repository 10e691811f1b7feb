//! The business's own figures, as Prometheus counters on the cell's
//! `/metrics` (prefixed `cellwear_`): orders confirmed, revenue by currency,
//! cancellations, refunds, checkout failures by reason, order e-mails. Each
//! cell counts its own; dashboards sum over cells.

use prometheus::{IntCounterVec, Opts, Registry};

#[derive(Debug, Clone)]
pub struct Kpis {
    orders: IntCounterVec,
    revenue: IntCounterVec,
    cancellations: IntCounterVec,
    refunds: IntCounterVec,
    refunded: IntCounterVec,
    checkout_failures: IntCounterVec,
    emails: IntCounterVec,
}

fn counter(
    registry: Option<&Registry>,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntCounterVec, prometheus::Error> {
    let counter = IntCounterVec::new(Opts::new(name, help), labels)?;
    if let Some(registry) = registry {
        registry.register(Box::new(counter.clone()))?;
    }
    Ok(counter)
}

impl Kpis {
    /// The counters, registered in `registry` (none: counted, not shown).
    pub fn new(registry: Option<&Registry>) -> Result<Self, prometheus::Error> {
        Ok(Self {
            orders: counter(
                registry,
                "orders_confirmed_total",
                "Orders whose payment was confirmed, by currency",
                &["currency"],
            )?,
            revenue: counter(
                registry,
                "revenue_minor_total",
                "Money taken on confirmed orders, in minor units, by currency",
                &["currency"],
            )?,
            cancellations: counter(
                registry,
                "order_cancellations_total",
                "Orders cancelled: `unpaid` (the payment never came) or `paid` (before shipping)",
                &["kind"],
            )?,
            refunds: counter(
                registry,
                "refunds_total",
                "Refunds the payment provider took, by currency",
                &["currency"],
            )?,
            refunded: counter(
                registry,
                "refunded_minor_total",
                "Money refunded, in minor units, by currency",
                &["currency"],
            )?,
            checkout_failures: counter(
                registry,
                "checkout_failures_total",
                "Checkouts that could not be paid, by reason",
                &["reason"],
            )?,
            emails: counter(
                registry,
                "order_emails_total",
                "Order e-mails, by kind and outcome (`sent`, or `failed` for a try the relay refused)",
                &["kind", "outcome"],
            )?,
        })
    }

    pub fn confirmed(&self, currency: &str, total_minor: i64) {
        self.orders.with_label_values(&[currency]).inc();
        self.revenue
            .with_label_values(&[currency])
            .inc_by(u64::try_from(total_minor).unwrap_or(0));
    }

    pub fn cancelled(&self, paid: bool) {
        self.cancellations
            .with_label_values(&[if paid { "paid" } else { "unpaid" }])
            .inc();
    }

    pub fn refunded(&self, currency: &str, amount_minor: i64) {
        self.refunds.with_label_values(&[currency]).inc();
        self.refunded
            .with_label_values(&[currency])
            .inc_by(u64::try_from(amount_minor).unwrap_or(0));
    }

    pub fn checkout_failed(&self, reason: &str) {
        self.checkout_failures.with_label_values(&[reason]).inc();
    }

    pub fn email_sent(&self, kind: &str) {
        self.emails.with_label_values(&[kind, "sent"]).inc();
    }

    pub fn email_failed(&self, kind: &str) {
        self.emails.with_label_values(&[kind, "failed"]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_show_on_the_registry() {
        let registry = Registry::new();
        let kpis = Kpis::new(Some(&registry)).unwrap();
        kpis.confirmed("GBP", 4_500);
        kpis.confirmed("GBP", 500);
        kpis.checkout_failed("declined");
        let families = registry.gather();
        let revenue = families
            .iter()
            .find(|f| f.name() == "revenue_minor_total")
            .unwrap();
        assert_eq!(revenue.get_metric()[0].get_counter().get_value(), 5_000.0);
        assert!(
            families
                .iter()
                .any(|f| f.name() == "checkout_failures_total")
        );
    }
}
