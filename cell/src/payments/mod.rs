//! Taking money: one adapter over Stripe's API (DESIGN.md §5). The same code
//! talks to Stripe itself or, locally and in tests, to the Stripe emulator
//! (`localstripe`); only `payments.api_base` and the keys differ.
//!
//! Requests are async-stripe's (parameters, client, idempotency keys);
//! responses are read into [`Intent`], the few fields checkout needs, so an
//! object with fewer fields than Stripe's own (the emulator's) still reads.
//! `signature` checks the `Stripe-Signature` of webhooks.

pub mod signature;

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use stripe::{Client, ClientBuilder, StripeError};
use stripe_client_core::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_core::payment_intent::{
    CancelPaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent,
    UpdatePaymentIntent,
};
use stripe_core::refund::CreateRefund;

/// Stripe's own API, as `payments.api_base` names it.
pub const STRIPE_API: &str = "https://api.stripe.com";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettings {
    /// Stripe's API (`https://api.stripe.com`) or the emulator's.
    pub api_base: String,
    /// `sk_…`; empty turns payments off (checkout stops before paying).
    pub secret_key: SecretString,
    /// `pk_…`, handed to the browser for Stripe.js.
    pub publishable_key: String,
    /// `whsec_…`: the secret webhooks are signed with.
    pub webhook_secret: SecretString,
    /// Webhooks signed longer ago than this are refused (replays).
    pub webhook_tolerance_s: u64,
    /// One call to the provider, at most.
    pub timeout_ms: u64,
}

impl PaymentSettings {
    pub fn check(&self) -> Result<(), String> {
        let key = self.secret_key.expose_secret();
        if key.is_empty() {
            return Ok(());
        }
        if !key.starts_with("sk_") {
            return Err("payments.secret_key: a Stripe secret key (sk_…)".into());
        }
        if self.webhook_secret.expose_secret().is_empty() {
            return Err(
                "payments.webhook_secret: needed with a secret key (webhooks are verified)".into(),
            );
        }
        if !(self.api_base.starts_with("https://") || self.api_base.starts_with("http://")) {
            return Err(format!(
                "payments.api_base: \"{}\" is not an http(s) URL",
                self.api_base
            ));
        }
        if self.timeout_ms == 0 || self.webhook_tolerance_s == 0 {
            return Err("payments.timeout_ms and payments.webhook_tolerance_s: above 0".into());
        }
        Ok(())
    }

    pub fn enabled(&self) -> bool {
        !self.secret_key.expose_secret().is_empty()
    }
}

/// A PaymentIntent, as far as checkout reads it.
#[derive(Debug, Clone, PartialEq, Eq, miniserde::Deserialize)]
pub struct Intent {
    pub id: String,
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub client_secret: Option<String>,
}

impl Intent {
    pub fn succeeded(&self) -> bool {
        self.status == "succeeded"
    }
}

#[derive(Debug, Clone, miniserde::Deserialize)]
struct RefundObject {
    id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The card was refused; the intent can be tried again with another.
    #[error("{0}")]
    Declined(String),
    /// The provider refused the request itself (a state it cannot take).
    #[error("the payment provider refused the request: {0}")]
    Refused(String),
    #[error("the payment provider did not answer in time")]
    Timeout,
    #[error("the payment provider could not be reached: {0}")]
    Unavailable(String),
    #[error("payments are not configured in this cell")]
    NotConfigured,
}

fn classify(error: StripeError) -> PaymentError {
    match error {
        StripeError::Stripe(body, status) => {
            let message = body
                .message
                .clone()
                .unwrap_or_else(|| format!("status {status}"));
            if status == 402 {
                PaymentError::Declined(message)
            } else {
                PaymentError::Refused(message)
            }
        }
        StripeError::Timeout => PaymentError::Timeout,
        other => PaymentError::Unavailable(other.to_string()),
    }
}

fn key(value: &str) -> Result<RequestStrategy, PaymentError> {
    IdempotencyKey::new(value)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| PaymentError::Refused(format!("idempotency key: {e}")))
}

/// The payment adapter.
#[derive(Clone)]
pub struct Payments {
    client: Option<Client>,
    publishable_key: String,
    /// Talking to Stripe itself (not the emulator).
    stripe_js: bool,
    timeout: Duration,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("enabled", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

impl Payments {
    pub fn new(settings: &PaymentSettings) -> Result<Self, PaymentError> {
        let client = if settings.enabled() {
            let base = settings.api_base.trim_end_matches('/');
            Some(
                ClientBuilder::new(settings.secret_key.expose_secret())
                    .url(base)
                    .build()
                    .map_err(|e| PaymentError::Unavailable(e.to_string()))?,
            )
        } else {
            None
        };
        Ok(Self {
            client,
            publishable_key: settings.publishable_key.clone(),
            stripe_js: settings.api_base.trim_end_matches('/') == STRIPE_API,
            timeout: Duration::from_millis(settings.timeout_ms),
        })
    }

    pub fn publishable_key(&self) -> &str {
        &self.publishable_key
    }

    /// Whether browsers confirm payments with Stripe.js: only against
    /// Stripe's own API. The emulator has no Stripe.js, so the shop's page
    /// confirms there with a test PaymentMethod instead.
    pub fn stripe_js(&self) -> bool {
        self.stripe_js && self.enabled()
    }

    pub fn enabled(&self) -> bool {
        self.client.is_some()
    }

    fn client(&self) -> Result<&Client, PaymentError> {
        self.client.as_ref().ok_or(PaymentError::NotConfigured)
    }

    async fn send<T: miniserde::Deserialize>(
        &self,
        request: stripe_client_core::RequestBuilder,
        strategy: RequestStrategy,
    ) -> Result<T, PaymentError> {
        let client = self.client()?;
        let call = request
            .customize::<T>()
            .request_strategy(strategy)
            .send(client);
        match tokio::time::timeout(self.timeout, call).await {
            Ok(outcome) => outcome.map_err(classify),
            Err(_) => Err(PaymentError::Timeout),
        }
    }

    /// An intent for `amount` (minor units) of `currency`, tagged
    /// with `metadata`. `idempotency` names the attempt: the same name
    /// gives the same intent however often it is sent.
    pub async fn create_intent(
        &self,
        amount: i64,
        currency: &str,
        metadata: HashMap<String, String>,
        idempotency: &str,
    ) -> Result<Intent, PaymentError> {
        let currency: stripe_types::Currency = currency
            .to_ascii_lowercase()
            .parse()
            .map_err(|_| PaymentError::Refused(format!("unknown currency {currency}")))?;
        let request = CreatePaymentIntent::new(amount, currency)
            .metadata(metadata)
            .build();
        self.send(request, key(idempotency)?).await
    }

    /// Pays `intent` with `payment_method` (attach, then confirm): a
    /// declined card is [`PaymentError::Declined`].
    pub async fn confirm(
        &self,
        intent: &str,
        payment_method: &str,
        idempotency: &str,
    ) -> Result<Intent, PaymentError> {
        let attach = UpdatePaymentIntent::new(intent)
            .payment_method(payment_method)
            .build();
        let _: Intent = self
            .send(attach, key(&format!("{idempotency}:attach"))?)
            .await?;
        let confirm = ConfirmPaymentIntent::new(intent).build();
        self.send(confirm, key(&format!("{idempotency}:confirm"))?)
            .await
    }

    pub async fn retrieve(&self, intent: &str) -> Result<Intent, PaymentError> {
        let request = RetrievePaymentIntent::new(intent).build();
        self.send(request, RequestStrategy::Once).await
    }

    /// Cancels `intent` so it can never be paid. One that already
    /// succeeded cannot be: the provider refuses and the caller reads it.
    pub async fn cancel(&self, intent: &str) -> Result<Intent, PaymentError> {
        let request = CancelPaymentIntent::new(intent).build();
        self.send(request, key(&format!("{intent}:cancel"))?).await
    }

    /// Gives the whole payment of `intent` back; once per intent.
    pub async fn refund(&self, intent: &str) -> Result<String, PaymentError> {
        let request = CreateRefund::new().payment_intent(intent).build();
        let refund: RefundObject = self
            .send(request, key(&format!("{intent}:refund"))?)
            .await?;
        Ok(refund.id)
    }

    /// Gives `amount_minor` of `intent`'s payment back, once per `refund`
    /// (our refund's id, in the idempotency key).
    pub async fn refund_part(
        &self,
        intent: &str,
        amount_minor: i64,
        refund: &str,
    ) -> Result<String, PaymentError> {
        let request = CreateRefund::new()
            .payment_intent(intent)
            .amount(amount_minor)
            .build();
        let refunded: RefundObject = self
            .send(request, key(&format!("{intent}:refund:{refund}"))?)
            .await?;
        Ok(refunded.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(api_base: &str, secret_key: &str) -> PaymentSettings {
        PaymentSettings {
            api_base: api_base.into(),
            secret_key: secret_key.to_owned().into(),
            publishable_key: "pk_test_x".into(),
            webhook_secret: "whsec_x".to_owned().into(),
            webhook_tolerance_s: 300,
            timeout_ms: 1000,
        }
    }

    #[test]
    fn browsers_use_stripe_js_only_against_stripe_itself() {
        let stripe = Payments::new(&settings("https://api.stripe.com/", "sk_test_x")).unwrap();
        assert!(stripe.stripe_js());
        let emulator = Payments::new(&settings("http://127.0.0.1:8420", "sk_test_x")).unwrap();
        assert!(!emulator.stripe_js());
        let off = Payments::new(&settings("https://api.stripe.com", "")).unwrap();
        assert!(!off.stripe_js(), "no payments, nothing to confirm");
    }
}
