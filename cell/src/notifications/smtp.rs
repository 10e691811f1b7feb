//! Sending e-mail over SMTP with lettre. The cell hands its mail to a relay
//! beside it (the cluster's relay in production; `xtask up` starts a local
//! sink with a web inbox, maildev); the relay does TLS and delivery onwards.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// One e-mail, ready to go.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to_name: String,
    pub to_email: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// File name and PDF bytes.
    pub attachment: Option<(String, Vec<u8>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message cannot be built (a bad address): retrying will not help.
    #[error("the message cannot be built: {0}")]
    Invalid(String),
    /// The relay refused or could not be reached: worth another try.
    #[error("the SMTP relay did not take the message: {0}")]
    Relay(String),
}

/// An SMTP relay at `smtp://host:port`.
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("from", &self.from).finish()
    }
}

/// `smtp://host:port` → (host, port); port 25 when left out.
pub fn parse_url(url: &str) -> Result<(String, u16), String> {
    let rest = url
        .strip_prefix("smtp://")
        .ok_or_else(|| format!("\"{url}\" is not an smtp://host:port URL"))?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| format!("\"{url}\": the port is not a number"))?,
        ),
        None => (rest, 25),
    };
    if host.is_empty() || host.contains('/') || host.contains('@') {
        return Err(format!("\"{url}\": no host"));
    }
    Ok((host.to_owned(), port))
}

impl Smtp {
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Self, String> {
        let (host, port) = parse_url(url)?;
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("\"{from}\" is not a sender address: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(timeout))
            .build();
        Ok(Self { transport, from })
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let to = Mailbox::new(
            Some(mail.to_name.clone()),
            mail.to_email
                .parse()
                .map_err(|e| SendError::Invalid(format!("{}: {e}", mail.to_email)))?,
        );
        let body = MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone());
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone());
        let message = match &mail.attachment {
            Some((name, bytes)) => {
                let pdf = ContentType::parse("application/pdf")
                    .map_err(|e| SendError::Invalid(e.to_string()))?;
                builder.multipart(
                    MultiPart::mixed()
                        .multipart(body)
                        .singlepart(Attachment::new(name.clone()).body(bytes.clone(), pdf)),
                )
            }
            None => builder.multipart(body),
        }
        .map_err(|e| SendError::Invalid(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| SendError::Relay(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_are_read() {
        assert_eq!(
            parse_url("smtp://127.0.0.1:1025").unwrap(),
            ("127.0.0.1".into(), 1025)
        );
        assert_eq!(
            parse_url("smtp://relay.mail").unwrap(),
            ("relay.mail".into(), 25)
        );
        for bad in ["http://x:25", "smtp://", "smtp://h:port", "smtp://u@h:25"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
