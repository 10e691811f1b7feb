//! What each order e-mail says, as plain text and as HTML (the same words;
//! the HTML escapes everything it is given).

use crate::invoices::money;
use crate::orders::{Line, Order};

use super::smtp::Mail;

/// Which moment of the order's life the e-mail tells of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moment {
    Confirmed,
    Processing,
    Shipped {
        carrier: String,
        number: String,
        link: String,
    },
    Delivered,
    Cancelled {
        reason: String,
        refunded: bool,
    },
    Refunded {
        amount_minor: i64,
        reason: String,
    },
}

impl Moment {
    /// Stable name, kept with each e-mail sent.
    pub fn kind(&self) -> &'static str {
        match self {
            Moment::Confirmed => "confirmed",
            Moment::Processing => "processing",
            Moment::Shipped { .. } => "shipped",
            Moment::Delivered => "delivered",
            Moment::Cancelled { .. } => "cancelled",
            Moment::Refunded { .. } => "refunded",
        }
    }
}

/// Everything an order e-mail is written from.
#[derive(Debug)]
pub struct Context<'a> {
    pub order: &'a Order,
    pub lines: &'a [Line],
    pub name: &'a str,
    pub email: &'a str,
    /// Where the shopper sees the order.
    pub order_url: String,
    /// The invoice's file name and PDF, attached to the confirmation.
    pub invoice: Option<(String, Vec<u8>)>,
}

/// The order's short reference, as the shopper sees it.
pub fn reference(order_id: &str) -> String {
    order_id.get(..8).unwrap_or(order_id).to_ascii_uppercase()
}

/// The e-mail for `moment`.
pub fn compose(moment: &Moment, context: Context<'_>) -> Mail {
    let order = context.order;
    let reference = reference(&order.id);
    let currency = &order.currency;
    let (subject, lead): (String, Vec<String>) = match moment {
        Moment::Confirmed => (
            format!("Your Cellwear order {reference} is confirmed"),
            vec![
                "Thank you for your order. Your payment went through and we are getting it ready."
                    .into(),
                "Your invoice is attached.".into(),
            ],
        ),
        Moment::Processing => (
            format!("We are packing your order {reference}"),
            vec!["Your order is being packed at our warehouse.".into()],
        ),
        Moment::Shipped {
            carrier,
            number,
            link,
        } => (
            format!("Your order {reference} is on its way"),
            vec![
                format!("Your order left our warehouse with {carrier}, tracking number {number}."),
                format!("Follow it here: {link}"),
            ],
        ),
        Moment::Delivered => (
            format!("Your order {reference} was delivered"),
            vec!["The carrier says your order was delivered. We hope it fits well.".into()],
        ),
        Moment::Cancelled { reason, refunded } => (
            format!("Your order {reference} is cancelled"),
            vec![
                format!("Your order was cancelled: {reason}."),
                if *refunded {
                    format!(
                        "We refunded {} to your card; it shows in a few working days.",
                        money(order.total_minor, currency)
                    )
                } else {
                    "No money was taken.".into()
                },
            ],
        ),
        Moment::Refunded {
            amount_minor,
            reason,
        } => (
            format!("A refund on your order {reference}"),
            vec![
                format!(
                    "We refunded {} to your card: {reason}.",
                    money(*amount_minor, currency)
                ),
                "It shows in a few working days.".into(),
            ],
        ),
    };
    let summary: Vec<String> = context
        .lines
        .iter()
        .map(|l| {
            format!(
                "{} x {} ({}, {}) - {}",
                l.quantity,
                l.title,
                l.size,
                l.colour,
                money(l.unit_price_minor * i64::from(l.quantity), currency)
            )
        })
        .collect();
    let mut totals = vec![format!(
        "Subtotal: {}",
        money(order.subtotal_minor, currency)
    )];
    if order.discount_minor != 0 {
        totals.push(format!(
            "Discount: {}",
            money(-order.discount_minor, currency)
        ));
    }
    totals.push(format!(
        "Shipping: {}",
        money(order.shipping_minor, currency)
    ));
    totals.push(format!("Total: {}", money(order.total_minor, currency)));

    let mut text = format!("Hello {},\n\n", context.name);
    for paragraph in &lead {
        text.push_str(paragraph);
        text.push_str("\n\n");
    }
    text.push_str(&format!("Order {reference}\n"));
    for line in summary.iter().chain(totals.iter()) {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!(
        "\nSee your order: {}\n\nCellwear\n",
        context.order_url
    ));

    let mut html = String::from(
        "<!doctype html><html><body style=\"font-family: Helvetica, Arial, sans-serif; color: #222\">",
    );
    html.push_str(&format!("<p>Hello {},</p>", escape(context.name)));
    for paragraph in &lead {
        html.push_str(&format!("<p>{}</p>", linked(paragraph)));
    }
    html.push_str(&format!(
        "<h3>Order {}</h3><table cellpadding=\"4\">",
        escape(&reference)
    ));
    for line in &summary {
        html.push_str(&format!("<tr><td>{}</td></tr>", escape(line)));
    }
    html.push_str("</table><p>");
    html.push_str(
        &totals
            .iter()
            .map(|t| escape(t))
            .collect::<Vec<_>>()
            .join("<br>"),
    );
    html.push_str(&format!(
        "</p><p><a href=\"{0}\">See your order</a></p><p>Cellwear</p></body></html>",
        escape(&context.order_url)
    ));
    Mail {
        to_name: context.name.to_owned(),
        to_email: context.email.to_owned(),
        subject,
        text,
        html,
        attachment: context.invoice,
    }
}

/// `text` with HTML's special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An escaped paragraph whose trailing `http(s)://…` becomes a link.
fn linked(paragraph: &str) -> String {
    match paragraph
        .find("http://")
        .or_else(|| paragraph.find("https://"))
    {
        Some(at) => {
            let (before, url) = paragraph.split_at(at);
            format!("{}<a href=\"{1}\">{1}</a>", escape(before), escape(url))
        }
        None => escape(paragraph),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_it_is_given() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(
            linked("Follow it: https://x.test/?a=1&b=2"),
            "Follow it: <a href=\"https://x.test/?a=1&amp;b=2\">https://x.test/?a=1&amp;b=2</a>"
        );
        assert_eq!(reference("0193a5e2-5a6b"), "0193A5E2");
    }
}
