//! What the cells tell the control plane about stock, from every cell's
//! `<cell>.inventory` topic: sales, top-up requests and returns. Each is
//! applied in the consumer's transaction, once.

use async_trait::async_trait;
use events::Envelope;
use events::Schemas;
use events::consumer::{Handler, HandlerError};
use sqlx::mysql::MySqlConnection;
use wire::events::{StockReturned, StockSold, StockTopUpRequested, StockUnsold};

use super::{StockError, StockSettings};

fn failed(error: StockError) -> HandlerError {
    match error {
        // A report that does not fit the ledger will not fit it on a retry.
        StockError::Unbalanced(_) | StockError::UnknownSku(_) | StockError::Invalid(_) => {
            tracing::error!(error = %error, "stock report refused");
            HandlerError::Permanent(error.into())
        }
        other => HandlerError::Transient(other.into()),
    }
}

fn payload<P: wire::events::EventPayload>(event: &Envelope) -> Result<P, HandlerError> {
    event
        .payload()
        .map_err(|e| HandlerError::Permanent(e.into()))
}

#[derive(Debug)]
pub struct OnSold;

#[async_trait]
impl Handler for OnSold {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let sold: StockSold = payload(event)?;
        super::sold(conn, &sold.cell, &sold.sku, u64::from(sold.quantity))
            .await
            .map_err(failed)
    }
}

#[derive(Debug)]
pub struct OnUnsold;

#[async_trait]
impl Handler for OnUnsold {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let unsold: StockUnsold = payload(event)?;
        super::unsold(conn, &unsold.cell, &unsold.sku, u64::from(unsold.quantity))
            .await
            .map_err(failed)
    }
}

#[derive(Debug)]
pub struct OnTopUp {
    pub schemas: Schemas,
    pub settings: StockSettings,
}

#[async_trait]
impl Handler for OnTopUp {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let request: StockTopUpRequested = payload(event)?;
        let granted = super::top_up(
            conn,
            &self.schemas,
            &self.settings,
            &request.cell,
            &request.sku,
            u64::from(request.demand),
        )
        .await
        .map_err(failed)?;
        tracing::info!(cell = %request.cell, sku = %request.sku, held = request.held, granted, "stock top-up");
        Ok(())
    }
}

#[derive(Debug)]
pub struct OnReturned {
    pub schemas: Schemas,
    pub settings: StockSettings,
}

#[async_trait]
impl Handler for OnReturned {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let back: StockReturned = payload(event)?;
        let mut hints = Vec::with_capacity(back.items.len());
        for item in &back.items {
            let unallocated =
                super::returned(conn, &back.cell, &item.sku, u64::from(item.quantity))
                    .await
                    .map_err(failed)?;
            hints.push(wire::events::StockHint {
                sku: item.sku.clone(),
                unallocated,
            });
        }
        super::announce_hints(
            conn,
            (&self.schemas, &self.settings.allocations_topic),
            hints,
        )
        .await
        .map_err(failed)
    }
}
