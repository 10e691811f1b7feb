//! The rules of saved addresses: at most [`MAX_ADDRESSES`] per account, exactly
//! one default once there is any, every change in one transaction.

use sqlx::MySqlPool;

use super::address::{Address, InvalidAddress};
use super::repo::{self, SavedAddress};
use wire::checkout::ShippingAddress;
use wire::users::AddressRequest;

pub const MAX_ADDRESSES: u64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("The address is not valid: {0}.")]
    Invalid(#[from] InvalidAddress),
    #[error("You have no address with this id.")]
    NotFound,
    #[error("An account keeps at most {MAX_ADDRESSES} addresses; delete one first.")]
    TooMany,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AddressError {
    fn from(error: sqlx::Error) -> Self {
        AddressError::Unexpected(error.into())
    }
}

#[derive(Debug, Clone)]
pub struct Addresses {
    pool: MySqlPool,
}

impl Addresses {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    pub async fn list(&self, user_id: &str) -> Result<Vec<SavedAddress>, AddressError> {
        Ok(repo::list(&self.pool, user_id).await?)
    }

    pub async fn create(
        &self,
        user_id: &str,
        request: &AddressRequest,
    ) -> Result<SavedAddress, AddressError> {
        let address = Address::parse(request)?;
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.pool.begin().await?;
        let existing = repo::lock_all(&mut tx, user_id).await?;
        if existing >= MAX_ADDRESSES {
            return Err(AddressError::TooMany);
        }
        repo::insert(&mut tx, user_id, &id, &address, false).await?;
        if existing == 0 || request.is_default == Some(true) {
            repo::make_default(&mut tx, user_id, &id).await?;
        }
        let saved = repo::get(&mut tx, user_id, &id)
            .await?
            .ok_or(AddressError::NotFound)?;
        tx.commit().await?;
        Ok(saved)
    }

    pub async fn update(
        &self,
        user_id: &str,
        id: &str,
        request: &AddressRequest,
    ) -> Result<SavedAddress, AddressError> {
        let address = Address::parse(request)?;
        let mut tx = self.pool.begin().await?;
        repo::lock_all(&mut tx, user_id).await?;
        if !repo::update(&mut tx, user_id, id, &address).await?
            && repo::get(&mut tx, user_id, id).await?.is_none()
        {
            return Err(AddressError::NotFound);
        }
        if request.is_default == Some(true) {
            repo::make_default(&mut tx, user_id, id).await?;
        }
        let saved = repo::get(&mut tx, user_id, id)
            .await?
            .ok_or(AddressError::NotFound)?;
        tx.commit().await?;
        Ok(saved)
    }

    /// One of `user_id`'s saved addresses, as a shipping address.
    pub async fn find(&self, user_id: &str, id: &str) -> Result<ShippingAddress, AddressError> {
        let mut conn = self.pool.acquire().await?;
        let saved = repo::get(&mut conn, user_id, id)
            .await?
            .ok_or(AddressError::NotFound)?;
        Ok(shipping(saved.address))
    }

    /// `request` checked and normalised, without saving it.
    pub fn normalise(request: &AddressRequest) -> Result<ShippingAddress, AddressError> {
        Ok(shipping(Address::parse(request)?))
    }

    pub async fn delete(&self, user_id: &str, id: &str) -> Result<(), AddressError> {
        let mut tx = self.pool.begin().await?;
        repo::lock_all(&mut tx, user_id).await?;
        if !repo::delete(&mut tx, user_id, id).await? {
            return Err(AddressError::NotFound);
        }
        repo::ensure_default(&mut tx, user_id).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn shipping(address: Address) -> ShippingAddress {
    ShippingAddress {
        full_name: address.full_name,
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        region: address.region,
        postcode: address.postcode,
        country: address.country,
        phone: address.phone,
    }
}
