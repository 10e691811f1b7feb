//! Changing an account's e-mail address (docs/IDENTITY.md).
//!
//! 1. `POST /api/me/email {email, password}`: the password proves the owner
//!    asks; the address must be free on this cell. A link with a one-time
//!    token goes to the new address (its SHA-256 is kept, for a day), and a
//!    notice to the old one. Nothing else changes yet.
//! 2. `POST /api/me/email/confirm {token}`, signed in as the same account:
//!    the control plane sets the account's sign-in alias — the new
//!    address's shopper key, routed to the account's cell — after checking
//!    that no account on any cell has that address or key; then the address
//!    is changed here, and the account's other sessions are signed out.
//!
//! The account's own shopper key does not change (its carts, orders and
//! overrides hang on it), so the address it left stays taken by it.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use chassis::http::{ApiError, Json};
use placement::ShopperKey;
use time::format_description::well_known::Rfc3339;
use wire::auth::{ChangeEmailRequest, ConfirmEmailRequest, EmailChangePending, UserResponse};

use super::domain::Email;
use super::limits;
use super::repo::{self, InsertError};
use super::routes::{Authenticated, user_response};
use super::service::{Auth, AuthError};
use super::sessions;
use crate::notifications::compose::escape;
use crate::notifications::{Mail, Notifier, SendError};
use crate::peers::{AliasError, Peers};

/// How long the link in the e-mail works.
pub const LINK_TTL_S: u64 = 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum EmailChangeError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("This is the account's address already.")]
    Unchanged,
    #[error(
        "This account signs in with Google, which vouches for its address; set a password before changing it."
    )]
    NoPassword,
    #[error(
        "This link is not valid for the account you are signed in to; sign in to the account that asked for the change, or ask again."
    )]
    InvalidToken,
    #[error("This link has expired; ask for the change again.")]
    Expired,
    #[error("The e-mail could not be sent ({0}); try again shortly.")]
    MailUnavailable(String),
    #[error("The change cannot be made now ({0}); try again shortly.")]
    RoutingUnavailable(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for EmailChangeError {
    fn from(error: sqlx::Error) -> Self {
        EmailChangeError::Unexpected(error.into())
    }
}

impl From<EmailChangeError> for ApiError {
    fn from(error: EmailChangeError) -> Self {
        if let EmailChangeError::Auth(auth) = error {
            return auth.into();
        }
        let (status, code) = match &error {
            EmailChangeError::Auth(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            EmailChangeError::Unchanged => (StatusCode::UNPROCESSABLE_ENTITY, "email_unchanged"),
            EmailChangeError::NoPassword => (StatusCode::CONFLICT, "password_required"),
            EmailChangeError::InvalidToken => (StatusCode::BAD_REQUEST, "invalid_email_token"),
            EmailChangeError::Expired => (StatusCode::GONE, "email_token_expired"),
            EmailChangeError::MailUnavailable(_) => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "mail_unavailable",
                    error.to_string(),
                )
                .retry_after(30);
            }
            EmailChangeError::RoutingUnavailable(_) => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "routing_unavailable",
                    error.to_string(),
                )
                .retry_after(10);
            }
            EmailChangeError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// Both steps of an e-mail change.
#[derive(Debug, Clone)]
pub struct EmailChanges {
    auth: Arc<Auth>,
    notifier: Notifier,
    peers: Arc<Peers>,
    cell: String,
}

impl FromRef<EmailChanges> for Arc<Auth> {
    fn from_ref(changes: &EmailChanges) -> Self {
        changes.auth.clone()
    }
}

impl EmailChanges {
    pub fn new(auth: Arc<Auth>, notifier: Notifier, peers: Arc<Peers>, cell: &str) -> Self {
        Self {
            auth,
            notifier,
            peers,
            cell: cell.to_owned(),
        }
    }

    /// Step 1: records the change and sends the link; the pending change.
    pub async fn request(
        &self,
        user_id: &str,
        email: &str,
        password: &str,
    ) -> Result<EmailChangePending, EmailChangeError> {
        let email = Email::parse(email).map_err(|e| AuthError::InvalidEmail(e.to_string()))?;
        let record = match self.auth.check_password(user_id, password).await {
            Ok(record) => record,
            Err(AuthError::WrongPassword) => {
                let has_password = repo::by_id(self.auth.pool(), user_id)
                    .await?
                    .is_some_and(|user| user.password_hash.is_some());
                return Err(if has_password {
                    AuthError::WrongPassword.into()
                } else {
                    EmailChangeError::NoPassword
                });
            }
            Err(error) => return Err(error.into()),
        };
        if record.email == email.as_str() {
            return Err(EmailChangeError::Unchanged);
        }
        self.auth
            .limit(
                &format!("email-change:{user_id}"),
                limits::EMAIL_CHANGE_PER_ACCOUNT,
            )
            .await?;
        let token = sessions::new_token();
        let mut tx = self.auth.pool().begin().await?;
        if repo::email_in_use(&mut tx, &email, user_id).await? {
            return Err(AuthError::EmailTaken.into());
        }
        repo::put_email_change(
            &mut tx,
            user_id,
            &email,
            &sessions::hash(&token),
            LINK_TTL_S,
        )
        .await?;
        repo::audit(
            &mut tx,
            Some(user_id),
            "email_change_requested",
            &format!("to {}", email.as_str()),
        )
        .await?;
        // The link goes out before the change is recorded: a relay that does
        // not take it leaves nothing behind.
        let link = self
            .notifier
            .shop_link(&format!("/account/email/confirm?token={token}"));
        let verify = verification_mail(&record.name, email.as_str(), &link);
        self.notifier
            .send_now(&verify)
            .await
            .map_err(|error| match error {
                SendError::Invalid(reason) => {
                    AuthError::InvalidEmail(format!("This address cannot take e-mail ({reason})."))
                        .into()
                }
                SendError::Relay(reason) => EmailChangeError::MailUnavailable(reason),
            })?;
        tx.commit().await?;
        let notice = notice_mail(&record.name, &record.email, email.as_str());
        if let Err(error) = self.notifier.send_now(&notice).await {
            tracing::warn!(user.id = user_id, error = %error, "the notice to the old address was not sent");
        }
        tracing::info!(user.id = user_id, "e-mail change asked for; link sent");
        let expires_at =
            time::OffsetDateTime::now_utc() + time::Duration::seconds(LINK_TTL_S as i64);
        Ok(EmailChangePending {
            email: email.as_str().to_owned(),
            expires_at: expires_at.format(&Rfc3339).unwrap_or_default(),
        })
    }

    /// Step 2: the link was opened by the signed-in `user_id` (`session`):
    /// the address changes, on every cell's routing at once.
    pub async fn confirm(
        &self,
        user_id: &str,
        session: &str,
        token: &str,
    ) -> Result<UserResponse, EmailChangeError> {
        if token.is_empty() || token.len() > 128 {
            return Err(EmailChangeError::InvalidToken);
        }
        let mut tx = self.auth.pool().begin().await?;
        let pending = repo::email_change_by_token(&mut tx, &sessions::hash(token))
            .await?
            .filter(|pending| pending.user_id == user_id)
            .ok_or(EmailChangeError::InvalidToken)?;
        if pending.expired {
            repo::delete_email_change(&mut tx, user_id).await?;
            tx.commit().await?;
            return Err(EmailChangeError::Expired);
        }
        let email = Email::parse(&pending.new_email).map_err(|e| {
            EmailChangeError::Unexpected(anyhow::anyhow!("a stored address does not parse: {e}"))
        })?;
        let record = repo::by_id(self.auth.pool(), user_id)
            .await?
            .ok_or(AuthError::TokenRevoked)?;
        match repo::set_email(&mut tx, user_id, &email).await {
            Ok(()) => {}
            Err(InsertError::EmailTaken) => return Err(AuthError::EmailTaken.into()),
            Err(InsertError::Database(error)) => return Err(error.into()),
        }
        // The alias is set while the row is changed but not committed: if
        // the control plane says no, nothing here changes.
        let alias = ShopperKey::for_account(email.as_str()).to_string();
        let alias = (alias != record.shopper_key).then_some(alias);
        let token = crate::cart::takeover::service_token(&self.auth, &self.cell)?;
        match self
            .peers
            .set_sign_in_alias(&token, &record.shopper_key, alias.as_deref())
            .await
        {
            Ok(()) => {}
            Err(AliasError::Taken) => {
                tx.rollback().await?;
                let mut tx = self.auth.pool().begin().await?;
                repo::delete_email_change(&mut tx, user_id).await?;
                tx.commit().await?;
                return Err(AuthError::EmailTaken.into());
            }
            Err(AliasError::Unreachable(reason)) => {
                return Err(EmailChangeError::RoutingUnavailable(reason));
            }
        }
        repo::delete_email_change(&mut tx, user_id).await?;
        repo::audit(
            &mut tx,
            Some(user_id),
            "email_changed",
            &format!("from {} to {}", record.email, email.as_str()),
        )
        .await?;
        tx.commit().await?;
        let signed_out = self
            .auth
            .session_store()
            .revoke_all(user_id, Some(session))
            .await
            .map_err(|e| EmailChangeError::Unexpected(e.into()))?;
        tracing::info!(
            user.id = user_id,
            other_sessions_revoked = signed_out,
            "e-mail address changed"
        );
        Ok(user_response(self.auth.user(user_id).await?))
    }
}

fn verification_mail(name: &str, to: &str, link: &str) -> Mail {
    let text = format!(
        "Hello {name},\n\nTo make {to} the e-mail address of your Cellwear account, open this link while signed in (it works for 24 hours):\n\n{link}\n\nIf you did not ask for this, ignore this e-mail: nothing changes.\n"
    );
    let html = format!(
        "<p>Hello {},</p><p>To make <strong>{}</strong> the e-mail address of your Cellwear account, open this link while signed in (it works for 24 hours):</p><p><a href=\"{}\">Confirm my new address</a></p><p>If you did not ask for this, ignore this e-mail: nothing changes.</p>",
        escape(name),
        escape(to),
        escape(link)
    );
    Mail {
        to_name: name.to_owned(),
        to_email: to.to_owned(),
        subject: "Confirm your new e-mail address".into(),
        text,
        html,
        attachment: None,
    }
}

fn notice_mail(name: &str, to: &str, new: &str) -> Mail {
    let text = format!(
        "Hello {name},\n\nSomeone signed in to your Cellwear account asked to change its e-mail address to {new}. It changes only when the link sent there is opened.\n\nIf this was not you, change your password now: that signs every other session out.\n"
    );
    let html = format!(
        "<p>Hello {},</p><p>Someone signed in to your Cellwear account asked to change its e-mail address to <strong>{}</strong>. It changes only when the link sent there is opened.</p><p>If this was not you, change your password now: that signs every other session out.</p>",
        escape(name),
        escape(new)
    );
    Mail {
        to_name: name.to_owned(),
        to_email: to.to_owned(),
        subject: "Your e-mail address is about to change".into(),
        text,
        html,
        attachment: None,
    }
}

/// Ask to move the account to a new e-mail address: a link goes there.
#[utoipa::path(post, path = "/api/me/email", tag = "auth", request_body = ChangeEmailRequest,
    responses(
        (status = 202, description = "The link was sent; the address changes when it is opened", body = EmailChangePending),
        (status = 403, description = "`wrong_password`", body = wire::ErrorBody),
        (status = 409, description = "`email_taken`, or `password_required` for an account that signs in with Google only", body = wire::ErrorBody),
        (status = 422, description = "`invalid_email` or `email_unchanged`", body = wire::ErrorBody),
        (status = 429, description = "`rate_limited`: five links an hour", body = wire::ErrorBody),
        (status = 503, description = "`mail_unavailable`: nothing was recorded; try again", body = wire::ErrorBody)))]
pub async fn request(
    State(changes): State<EmailChanges>,
    Authenticated(claims): Authenticated,
    Json(body): Json<ChangeEmailRequest>,
) -> Result<(StatusCode, Json<EmailChangePending>), ApiError> {
    let pending = changes
        .request(&claims.sub, &body.email, &body.password)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(pending)))
}

/// Confirm the new address with the token from the link; the account's
/// other sessions are signed out.
#[utoipa::path(post, path = "/api/me/email/confirm", tag = "auth", request_body = ConfirmEmailRequest,
    responses(
        (status = 200, description = "The account with its new address", body = UserResponse),
        (status = 400, description = "`invalid_email_token`: unknown, used, or another account's", body = wire::ErrorBody),
        (status = 409, description = "`email_taken`: another account took the address meanwhile", body = wire::ErrorBody),
        (status = 410, description = "`email_token_expired`", body = wire::ErrorBody),
        (status = 503, description = "`routing_unavailable`: the control plane did not answer; nothing changed", body = wire::ErrorBody)))]
pub async fn confirm(
    State(changes): State<EmailChanges>,
    Authenticated(claims): Authenticated,
    Json(body): Json<ConfirmEmailRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    Ok(Json(
        changes
            .confirm(&claims.sub, &claims.sid, &body.token)
            .await?,
    ))
}
