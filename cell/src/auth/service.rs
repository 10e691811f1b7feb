//! The rules of identity: registering, signing in, refreshing, signing out,
//! and authenticating a bearer token. No HTTP types here.

use std::sync::Arc;
use std::time::Duration;

use events::Schemas;
use placement::ShopperKey;
use serde::{Deserialize, Serialize};
use sqlx::MySqlPool;
use sqlx::mysql::MySqlConnection;
use tokio::sync::OnceCell;
use wire::events::{EventPayload, PasswordChanged, UserLoggedIn, UserRegistered};

use super::domain::{Email, Password, Role};
use super::google::{Google, GoogleError};
use super::limits::{self, Limit, Limits};
use super::repo::{self, InsertError, UserRecord};
use super::sessions::{Refreshed, SessionInfo, Sessions};
use super::tokens::{Claims, SigningKeys, TokenError};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    InvalidEmail(String),
    #[error("{0}")]
    WeakPassword(String),
    #[error("{0}")]
    InvalidName(&'static str),
    #[error("An account with this e-mail address exists already.")]
    EmailTaken,
    #[error("The e-mail address or the password is wrong.")]
    InvalidCredentials,
    #[error("This request needs a bearer access token.")]
    MissingToken,
    #[error("The access token has expired; refresh it.")]
    TokenExpired,
    #[error("The access token is not valid.")]
    InvalidToken(String),
    #[error("The access token was revoked; sign in again.")]
    TokenRevoked,
    #[error("The refresh token is missing, expired or revoked; sign in again.")]
    InvalidRefresh,
    #[error("This refresh token was used already; every session it belonged to is now signed out.")]
    RefreshReused,
    #[error(transparent)]
    Google(#[from] GoogleError),
    #[error("The sign-in ticket is invalid, expired or spent; sign in again.")]
    InvalidTicket,
    #[error("This account is linked to another Google account.")]
    GoogleAccountMismatch,
    #[error("Too many attempts; try again in {0} s.")]
    RateLimited(u64),
    #[error("Too many wrong passwords; sign-in is locked for {0} s.")]
    AccountLocked(u64),
    #[error("This needs the {0} role.")]
    Forbidden(&'static str),
    #[error("No account has this id.")]
    UserNotFound,
    #[error("Unknown role {0}; roles are user, admin and sre.")]
    UnknownRole(String),
    #[error("You have no session with this id.")]
    SessionNotFound,
    #[error("The current password is wrong.")]
    WrongPassword,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AuthError {
    fn from(error: sqlx::Error) -> Self {
        AuthError::Unexpected(error.into())
    }
}

impl From<redis::RedisError> for AuthError {
    fn from(error: redis::RedisError) -> Self {
        AuthError::Unexpected(error.into())
    }
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub bcrypt_cost: u32,
    pub cookie_secure: bool,
    /// This cell's id: names the topics identity's events go to.
    pub cell: String,
    /// `kafka.topic_prefix`.
    pub topic_prefix: String,
    /// E-mail addresses that get every role when they register (the first
    /// administrators of a new deployment).
    pub bootstrap_admins: Vec<String>,
    /// Origins whose pages may call refresh and logout (`scheme://host:port`).
    pub allowed_origins: Vec<String>,
}

/// A signed-in user as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub shopper_key: ShopperKey,
}

impl From<UserRecord> for User {
    fn from(record: UserRecord) -> Self {
        Self {
            shopper_key: ShopperKey::parse(&record.shopper_key)
                .unwrap_or_else(|_| ShopperKey::for_account(&record.email)),
            id: record.id,
            email: record.email,
            name: record.name,
            roles: record.roles,
        }
    }
}

/// Who sign-in tickets are for, and how long they live.
const TICKET_AUDIENCE: &str = "cellwear-sign-in-ticket";
const TICKET_TTL_S: i64 = 60;

/// A verified Google sign-in on its way to the account's home cell.
#[derive(Debug, Serialize, Deserialize)]
struct Ticket {
    /// The Google account (OpenID `sub`).
    sub: String,
    /// The home cell's routing key: the edge routes the finish step by it.
    sk: String,
    email: String,
    name: String,
    return_to: String,
    jti: String,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// What a successful sign-in or refresh hands out.
#[derive(Debug)]
pub struct Issued {
    pub user: User,
    pub access_token: String,
    pub refresh_token: String,
}

#[derive(Debug)]
pub struct Auth {
    pool: MySqlPool,
    sessions: Sessions,
    limits: Limits,
    keys: SigningKeys,
    google: Arc<Google>,
    settings: AuthSettings,
    /// A hash to check wrong e-mails against, so an unknown address costs as
    /// much time as a wrong password (no enumeration by timing).
    decoy_hash: OnceCell<String>,
    /// Told of every sign-in that came with a guest's shopper key.
    sign_in_hook: std::sync::OnceLock<Arc<dyn SignInHook>>,
}

/// Runs after a sign-in that came from a guest (the edge's shopper key):
/// the cart takes the guest's lines over. It must not fail the sign-in.
#[async_trait::async_trait]
pub trait SignInHook: Send + Sync + std::fmt::Debug {
    async fn signed_in(&self, user_id: &str, guest_key: &str);
}

impl Auth {
    /// Sets the sign-in hook (once, at start).
    pub fn on_sign_in(&self, hook: Arc<dyn SignInHook>) {
        let _ = self.sign_in_hook.set(hook);
    }

    /// Tells the hook that `user_id` signed in as guest `guest_key`.
    pub async fn signed_in_from(&self, user_id: &str, guest_key: Option<String>) {
        if let (Some(hook), Some(guest)) = (self.sign_in_hook.get(), guest_key) {
            hook.signed_in(user_id, &guest).await;
        }
    }

    pub fn new(
        pool: MySqlPool,
        sessions: Sessions,
        limits: Limits,
        keys: SigningKeys,
        google: Arc<Google>,
        settings: AuthSettings,
    ) -> Arc<Self> {
        Arc::new(Self {
            pool,
            sessions,
            limits,
            keys,
            google,
            settings,
            decoy_hash: OnceCell::new(),
            sign_in_hook: std::sync::OnceLock::new(),
        })
    }

    pub fn keys(&self) -> &SigningKeys {
        &self.keys
    }

    /// The refresh-token sessions (a shopper's move copies them).
    pub fn session_store(&self) -> &Sessions {
        &self.sessions
    }

    pub async fn register(
        &self,
        email: &str,
        password: &str,
        name: &str,
        ip: &str,
    ) -> Result<User, AuthError> {
        self.limit(&format!("register:ip:{ip}"), limits::REGISTER_PER_IP)
            .await?;
        let email = Email::parse(email).map_err(|e| AuthError::InvalidEmail(e.to_string()))?;
        let password = Password::parse(password, &email)
            .map_err(|e| AuthError::WeakPassword(e.to_string()))?;
        let name = valid_name(name)?;
        let hash = self.hash(password.expose().to_owned()).await?;
        let user = self.create_account(&email, name, Some(&hash), None).await?;
        tracing::info!(user.id = %user.id, "account registered");
        Ok(user)
    }

    /// Inserts an account, grants the bootstrap roles, and announces it, in
    /// one transaction.
    async fn create_account(
        &self,
        email: &Email,
        name: &str,
        password_hash: Option<&str>,
        google_subject: Option<&str>,
    ) -> Result<User, AuthError> {
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.pool.begin().await?;
        match repo::insert(&mut tx, &id, email, name, password_hash, google_subject).await {
            Ok(()) => {}
            Err(InsertError::EmailTaken) => return Err(AuthError::EmailTaken),
            Err(InsertError::Database(error)) => return Err(error.into()),
        }
        if self
            .settings
            .bootstrap_admins
            .iter()
            .any(|admin| admin.trim().to_lowercase() == email.as_str())
        {
            let all = [Role::User, Role::Admin, Role::Sre];
            repo::set_roles(&mut tx, &id, &all).await?;
            repo::audit(
                &mut tx,
                Some(&id),
                "roles_granted",
                "user,admin,sre by auth.bootstrap_admins",
            )
            .await?;
        }
        let registered = UserRegistered {
            user_id: id.clone(),
            shopper_key: ShopperKey::for_account(email.as_str()).to_string(),
        };
        self.publish(&mut tx, "analytics", &registered).await?;
        tx.commit().await?;
        let record = repo::by_id(&self.pool, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the new account vanished"))?;
        Ok(record.into())
    }

    /// The provider's sign-in page for a new Google sign-in.
    pub async fn google_start(&self, return_to: &str) -> Result<String, AuthError> {
        Ok(self.google.start(return_to).await?)
    }

    /// Verifies the provider's answer and returns where the browser goes
    /// next: the finish step on the account's home cell, with a one-minute
    /// ticket the edge routes by.
    pub async fn google_callback(&self, code: &str, state: &str) -> Result<String, AuthError> {
        let (identity, return_to) = self.google.callback(code, state).await?;
        let email =
            Email::parse(&identity.email).map_err(|e| AuthError::InvalidEmail(e.to_string()))?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ticket = Ticket {
            sub: identity.subject,
            sk: ShopperKey::for_account(email.as_str()).to_string(),
            email: email.to_string(),
            name: identity.name,
            return_to,
            jti: uuid::Uuid::new_v4().to_string(),
            iss: self.keys.issuer().to_owned(),
            aud: TICKET_AUDIENCE.to_owned(),
            iat: now,
            exp: now + TICKET_TTL_S,
        };
        let signed = self.keys.sign_any(&ticket)?;
        Ok(format!("/api/auth/google/finish?ticket={signed}"))
    }

    /// Spends a sign-in ticket on the home cell: links the Google account to
    /// the account with its verified e-mail (or creates one), and starts a
    /// session. Returns the session and the shop path to land on.
    pub async fn google_finish(
        &self,
        ticket: &str,
        device: &str,
        ip: &str,
    ) -> Result<(Issued, String), AuthError> {
        let ticket: Ticket = self
            .keys
            .verify_any(ticket, TICKET_AUDIENCE)
            .map_err(|_| AuthError::InvalidTicket)?;
        if !self
            .sessions
            .spend_once(&ticket.jti, TICKET_TTL_S as u64 * 2)
            .await?
        {
            return Err(AuthError::InvalidTicket);
        }
        let email =
            Email::parse(&ticket.email).map_err(|e| AuthError::InvalidEmail(e.to_string()))?;
        let user = match repo::by_email(&self.pool, &email).await? {
            Some(record) => match record.google_subject.as_deref() {
                Some(linked) if linked != ticket.sub => {
                    return Err(AuthError::GoogleAccountMismatch);
                }
                Some(_) => User::from(record),
                None => {
                    repo::link_google(&mut *self.pool.acquire().await?, &record.id, &ticket.sub)
                        .await?;
                    tracing::info!(user.id = %record.id, "Google account linked by verified e-mail");
                    User::from(record)
                }
            },
            None => {
                let name: String = ticket.name.chars().take(100).collect();
                let user = self
                    .create_account(&email, &name, None, Some(&ticket.sub))
                    .await?;
                tracing::info!(user.id = %user.id, "account registered through Google");
                user
            }
        };
        let (issued, _) = self.start_session(user, device, ip).await?;
        Ok((issued, ticket.return_to))
    }

    /// A new session for `user`: its refresh token and a first access token.
    /// Also returns the session id.
    async fn start_session(
        &self,
        user: User,
        device: &str,
        ip: &str,
    ) -> Result<(Issued, String), AuthError> {
        let started = self.sessions.start(&user.id, device, ip).await?;
        let access_token = self.access_token(&user, &started.session)?;
        let issued = Issued {
            user,
            access_token,
            refresh_token: started.token,
        };
        Ok((issued, started.session))
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
        device: &str,
        ip: &str,
    ) -> Result<Issued, AuthError> {
        let account = account_key(email);
        self.limit(&format!("login:ip:{ip}"), limits::LOGIN_PER_IP)
            .await?;
        self.limit(
            &format!("login:account:{account}"),
            limits::LOGIN_PER_ACCOUNT,
        )
        .await?;
        if let Some(seconds) = self.limits.locked(&account).await? {
            return Err(AuthError::AccountLocked(seconds));
        }
        // Malformed input gets the same answer as a wrong password.
        let email = Email::parse(email).ok();
        let record = match &email {
            Some(email) => repo::by_email(&self.pool, email).await?,
            None => None,
        };
        let stored = record.as_ref().and_then(|r| r.password_hash.clone());
        let matches = match stored {
            Some(hash) => self.verify(password.to_owned(), hash).await?,
            None => {
                let decoy = self.decoy().await?;
                let _ = self.verify(password.to_owned(), decoy).await?;
                false
            }
        };
        let Some(record) = record.filter(|_| matches) else {
            self.limits.failed(&account).await?;
            return Err(AuthError::InvalidCredentials);
        };
        self.limits.succeeded(&account).await?;
        let user = User::from(record);
        let (issued, session) = self.start_session(user, device, ip).await?;
        let logged_in = UserLoggedIn {
            user_id: issued.user.id.clone(),
            session_id: session.clone(),
        };
        self.publish(&mut *self.pool.acquire().await?, "analytics", &logged_in)
            .await?;
        tracing::info!(user.id = %issued.user.id, session.id = %session, "signed in");
        Ok(issued)
    }

    pub async fn refresh(&self, refresh_token: &str, ip: &str) -> Result<Issued, AuthError> {
        self.limit(&format!("refresh:ip:{ip}"), limits::REFRESH_PER_IP)
            .await?;
        match self.sessions.rotate(refresh_token).await? {
            Refreshed::Rotated {
                token,
                user_id,
                session,
            } => {
                let record = repo::by_id(&self.pool, &user_id)
                    .await?
                    .ok_or(AuthError::InvalidRefresh)?;
                let user = User::from(record);
                let access_token = self.access_token(&user, &session)?;
                Ok(Issued {
                    user,
                    access_token,
                    refresh_token: token,
                })
            }
            Refreshed::Invalid => Err(AuthError::InvalidRefresh),
            Refreshed::Reused { user_id, session } => {
                tracing::warn!(user.id = %user_id, session.id = %session, "refresh token reused; session revoked");
                repo::audit(
                    &mut *self.pool.acquire().await?,
                    Some(&user_id),
                    "refresh_token_reused",
                    &format!("session {session} revoked"),
                )
                .await?;
                Err(AuthError::RefreshReused)
            }
        }
    }

    /// Ends the session of `refresh_token` and refuses `access` until it
    /// would have expired. Either may be absent; neither is an error.
    pub async fn logout(
        &self,
        refresh_token: Option<&str>,
        access: Option<&Claims>,
    ) -> Result<(), AuthError> {
        if let Some(token) = refresh_token {
            self.sessions.end(token).await?;
        }
        if let Some(claims) = access {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            self.sessions
                .deny(&claims.jti, (claims.exp - now).max(0) as u64)
                .await?;
        }
        Ok(())
    }

    /// The claims of a valid, unrevoked bearer token.
    pub async fn authenticate(&self, bearer: &str) -> Result<Claims, AuthError> {
        let claims = self.keys.verify(bearer).map_err(|error| match error {
            TokenError::Expired => AuthError::TokenExpired,
            TokenError::Invalid(reason) => AuthError::InvalidToken(reason),
        })?;
        if self.sessions.is_revoked(&claims.jti, &claims.sid).await? {
            return Err(AuthError::TokenRevoked);
        }
        Ok(claims)
    }

    /// Sets an account's roles (an administrator's act, audited with who did
    /// it and what changed). Takes effect with the account's next token.
    pub async fn set_roles(
        &self,
        actor: &Claims,
        user_id: &str,
        roles: &[String],
    ) -> Result<User, AuthError> {
        let mut parsed = roles
            .iter()
            .map(|name| Role::parse(name).ok_or_else(|| AuthError::UnknownRole(name.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        parsed.push(Role::User);
        parsed.sort();
        parsed.dedup();
        let before = repo::by_id(&self.pool, user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        let mut tx = self.pool.begin().await?;
        if !repo::set_roles(&mut tx, user_id, &parsed).await? {
            return Err(AuthError::UserNotFound);
        }
        let names = |roles: &[Role]| {
            roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        let detail = format!(
            "{} -> {} by {}",
            names(&before.roles),
            names(&parsed),
            actor.sub
        );
        repo::audit(&mut tx, Some(user_id), "roles_set", &detail).await?;
        tx.commit().await?;
        tracing::info!(user.id = %user_id, actor.id = %actor.sub, roles = %names(&parsed), "roles set");
        self.user(user_id).await
    }

    /// Changes the account's display name.
    pub async fn rename(&self, user_id: &str, name: &str) -> Result<User, AuthError> {
        let name = valid_name(name)?;
        repo::set_name(&self.pool, user_id, name).await?;
        self.user(user_id).await
    }

    /// The caller's live sessions.
    pub async fn sessions(&self, user_id: &str) -> Result<Vec<SessionInfo>, AuthError> {
        Ok(self.sessions.list(user_id).await?)
    }

    /// Ends one of the caller's sessions; someone else's id is "not found".
    pub async fn revoke_session(&self, user_id: &str, session: &str) -> Result<(), AuthError> {
        if self.sessions.revoke(user_id, session).await? {
            Ok(())
        } else {
            Err(AuthError::SessionNotFound)
        }
    }

    /// Ends every session of the caller, this one included.
    pub async fn revoke_all_sessions(&self, user_id: &str) -> Result<usize, AuthError> {
        Ok(self.sessions.revoke_all(user_id, None).await?)
    }

    /// Checks the current password, sets the new one and signs out every
    /// other session.
    pub async fn change_password(
        &self,
        claims: &Claims,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        let record = self.check_password(&claims.sub, current).await?;
        let email = Email::parse(&record.email).map_err(|e| {
            AuthError::Unexpected(anyhow::anyhow!("the stored e-mail does not parse: {e}"))
        })?;
        let password =
            Password::parse(new, &email).map_err(|e| AuthError::WeakPassword(e.to_string()))?;
        let hash = self.hash(password.expose().to_owned()).await?;
        let mut tx = self.pool.begin().await?;
        repo::set_password(&mut tx, &record.id, &hash).await?;
        let changed = PasswordChanged {
            user_id: record.id.clone(),
        };
        self.publish(&mut tx, "notifications", &changed).await?;
        tx.commit().await?;
        let signed_out = self
            .sessions
            .revoke_all(&record.id, Some(&claims.sid))
            .await?;
        tracing::info!(user.id = %record.id, other_sessions_revoked = signed_out, "password changed");
        Ok(())
    }

    pub async fn user(&self, id: &str) -> Result<User, AuthError> {
        let record = repo::by_id(&self.pool, id)
            .await?
            .ok_or(AuthError::TokenRevoked)?;
        Ok(record.into())
    }

    pub fn access_ttl(&self) -> Duration {
        self.settings.access_ttl
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.settings.refresh_ttl
    }

    pub fn cookie_secure(&self) -> bool {
        self.settings.cookie_secure
    }

    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.settings
            .allowed_origins
            .iter()
            .any(|allowed| allowed == origin)
    }

    fn access_token(&self, user: &User, session: &str) -> Result<String, AuthError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            sub: user.id.clone(),
            sk: user.shopper_key.to_string(),
            roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            sid: session.to_owned(),
            jti: uuid::Uuid::new_v4().to_string(),
            iss: self.keys.issuer().to_owned(),
            aud: self.keys.audience().to_owned(),
            iat: now,
            exp: now + self.settings.access_ttl.as_secs() as i64,
        };
        Ok(self.keys.sign(&claims)?)
    }

    /// bcrypt runs on the blocking pool: at cost 12 it takes a core for a
    /// quarter of a second.
    async fn hash(&self, password: String) -> Result<String, AuthError> {
        let cost = self.settings.bcrypt_cost;
        tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(|e| AuthError::Unexpected(e.into()))
    }

    async fn verify(&self, password: String, hash: String) -> Result<bool, AuthError> {
        tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(|e| AuthError::Unexpected(e.into()))
    }

    /// Writes an event to the outbox in the caller's transaction.
    async fn publish<P: EventPayload>(
        &self,
        conn: &mut MySqlConnection,
        domain: &str,
        payload: &P,
    ) -> Result<(), AuthError> {
        let topic = format!(
            "{}{}",
            self.settings.topic_prefix,
            events::topics::cell_topic(&self.settings.cell, domain)
        );
        events::outbox::enqueue_payload(
            conn,
            &Schemas::builtin(),
            &topic,
            Some(&self.settings.cell),
            payload,
        )
        .await
        .map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// The account `user_id`, once `password` proves to be its password
    /// (`WrongPassword` otherwise, or for an account without one).
    pub(crate) async fn check_password(
        &self,
        user_id: &str,
        password: &str,
    ) -> Result<UserRecord, AuthError> {
        let record = repo::by_id(&self.pool, user_id)
            .await?
            .ok_or(AuthError::TokenRevoked)?;
        let stored = record
            .password_hash
            .clone()
            .ok_or(AuthError::WrongPassword)?;
        if !self.verify(password.to_owned(), stored).await? {
            return Err(AuthError::WrongPassword);
        }
        Ok(record)
    }

    pub(crate) fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    pub(crate) async fn limit(&self, scope: &str, limit: Limit) -> Result<(), AuthError> {
        match self.limits.hit(scope, limit).await? {
            Some(seconds) => Err(AuthError::RateLimited(seconds)),
            None => Ok(()),
        }
    }

    async fn decoy(&self) -> Result<String, AuthError> {
        self.decoy_hash
            .get_or_try_init(|| self.hash(uuid::Uuid::new_v4().to_string()))
            .await
            .cloned()
    }
}

fn valid_name(name: &str) -> Result<&str, AuthError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AuthError::InvalidName(
            "A name has 1 to 100 characters and no control characters.",
        ));
    }
    Ok(name)
}

/// The name limits and lockout count an account under: the address as typed,
/// normalised and hashed, so Redis holds no e-mail addresses.
fn account_key(email: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(email.trim().to_lowercase().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}
