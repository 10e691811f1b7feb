//! Placement with overrides: a routing table compiled for fast look-ups.

use std::collections::HashMap;

use wire::{RoutedCell, RoutingTable};

use crate::{PlacementError, ShopperKey, place, place_among};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTable {
    #[error("override for \"{key}\": not a shopper key")]
    BadKey { key: String },
    #[error("override for {key}: cell \"{cell}\" is not in the table")]
    UnknownCell { key: ShopperKey, cell: String },
    #[error("cell \"{0}\" is listed twice")]
    DuplicateCell(String),
}

/// A routing table ready to answer "which cell?" for any shopper key: an
/// override first (the highest epoch for a key wins), else weighted
/// rendezvous over the cells that accept shoppers.
#[derive(Debug, Clone)]
pub struct Placer {
    version: u64,
    cells: Vec<RoutedCell>,
    overrides: HashMap<ShopperKey, (usize, u64)>,
}

impl Placer {
    pub fn new(table: &RoutingTable) -> Result<Self, InvalidTable> {
        let mut index = HashMap::new();
        for (position, cell) in table.cells.iter().enumerate() {
            if index.insert(cell.id.as_str(), position).is_some() {
                return Err(InvalidTable::DuplicateCell(cell.id.clone()));
            }
        }
        let mut overrides: HashMap<ShopperKey, (usize, u64)> = HashMap::new();
        for entry in &table.overrides {
            let key = ShopperKey::parse(&entry.shopper_key).map_err(|_| InvalidTable::BadKey {
                key: entry.shopper_key.clone(),
            })?;
            let cell =
                *index
                    .get(entry.cell.as_str())
                    .ok_or_else(|| InvalidTable::UnknownCell {
                        key,
                        cell: entry.cell.clone(),
                    })?;
            let slot = overrides.entry(key).or_insert((cell, entry.epoch));
            if entry.epoch > slot.1 {
                *slot = (cell, entry.epoch);
            }
        }
        Ok(Self {
            version: table.version,
            cells: table.cells.clone(),
            overrides,
        })
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn cells(&self) -> &[RoutedCell] {
        &self.cells
    }

    /// The shopper's cell. An override holds whatever its cell's state: a
    /// migrated shopper lives there now, and a failed cell's shoppers are its
    /// to answer (with degraded service).
    pub fn place(&self, key: ShopperKey) -> Result<&RoutedCell, PlacementError> {
        match self.overrides.get(&key) {
            Some((cell, _)) => Ok(&self.cells[*cell]),
            None => place(key, &self.cells),
        }
    }

    /// The epoch of the shopper's override, if they have one (a cell fences
    /// writes from an older epoch during a migration).
    pub fn epoch(&self, key: ShopperKey) -> Option<u64> {
        self.overrides.get(&key).map(|(_, epoch)| *epoch)
    }

    /// Where a shopper of a failed cell browses meanwhile: the cell the
    /// hash picks among the active cells that `up` says answer.
    pub fn fallback(
        &self,
        key: ShopperKey,
        up: impl Fn(&str) -> bool,
    ) -> Result<&RoutedCell, PlacementError> {
        place_among(key, &self.cells, |cell| {
            cell.state.accepts_new_shoppers() && up(&cell.id)
        })
    }

    /// A key for a new guest whose home is an active cell that `up` says
    /// answers: a guest put on a failed cell could browse but not fill a
    /// cart. Keys are drawn until one lands on such a cell (a few draws
    /// unless most cells are down; after 64 the last draw is kept).
    pub fn new_guest_key(&self, up: impl Fn(&str) -> bool) -> ShopperKey {
        let mut key = ShopperKey::random();
        for _ in 0..64 {
            match self.place(key) {
                Ok(cell) if cell.state.accepts_new_shoppers() && up(&cell.id) => return key,
                Err(_) => return key,
                Ok(_) => key = ShopperKey::random(),
            }
        }
        key
    }

    /// Whether a shopper without an override could be placed at all.
    pub fn can_place_new(&self) -> bool {
        self.cells
            .iter()
            .any(|cell| cell.weight > 0 && cell.state.accepts_new_shoppers())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use wire::{CellState, PlacementOverride};

    fn table(overrides: Vec<PlacementOverride>) -> RoutingTable {
        RoutingTable {
            version: 7,
            cells: (0..4)
                .map(|i| RoutedCell {
                    id: format!("cell-{i}"),
                    weight: 100,
                    state: CellState::Active,
                })
                .collect(),
            overrides,
        }
    }

    fn pin(key: ShopperKey, cell: &str, epoch: u64) -> PlacementOverride {
        PlacementOverride {
            shopper_key: key.to_string(),
            cell: cell.into(),
            epoch,
        }
    }

    #[test]
    fn the_highest_epoch_wins() {
        let key = ShopperKey::from(42);
        let placer = Placer::new(&table(vec![
            pin(key, "cell-1", 1),
            pin(key, "cell-3", 3),
            pin(key, "cell-2", 2),
        ]))
        .unwrap();
        assert_eq!(placer.place(key).unwrap().id, "cell-3");
        assert_eq!(placer.epoch(key), Some(3));
        assert_eq!(placer.version(), 7);
    }

    #[test]
    fn an_override_holds_on_a_draining_cell() {
        let key = ShopperKey::from(42);
        let mut draining = table(vec![pin(key, "cell-2", 1)]);
        draining.cells[2].state = CellState::Draining;
        assert_eq!(
            Placer::new(&draining).unwrap().place(key).unwrap().id,
            "cell-2"
        );
    }

    #[test]
    fn bad_overrides_and_duplicate_cells_are_refused() {
        let key = ShopperKey::from(1);
        assert!(matches!(
            Placer::new(&table(vec![pin(key, "cell-9", 1)])),
            Err(InvalidTable::UnknownCell { .. })
        ));
        let mut bad_key = table(vec![]);
        bad_key.overrides.push(PlacementOverride {
            shopper_key: "nope".into(),
            cell: "cell-0".into(),
            epoch: 1,
        });
        assert!(matches!(
            Placer::new(&bad_key),
            Err(InvalidTable::BadKey { .. })
        ));
        let mut twice = table(vec![]);
        twice.cells.push(twice.cells[0].clone());
        assert_eq!(
            Placer::new(&twice).unwrap_err(),
            InvalidTable::DuplicateCell("cell-0".into())
        );
    }

    proptest! {
        #[test]
        fn overrides_move_only_their_own_keys(pinned in any::<u64>(), others in proptest::collection::vec(any::<u64>(), 1..50)) {
            let pinned = ShopperKey::from(pinned);
            let plain = Placer::new(&table(vec![])).unwrap();
            let with = Placer::new(&table(vec![pin(pinned, "cell-0", 1)])).unwrap();
            prop_assert_eq!(&with.place(pinned).unwrap().id, "cell-0");
            for raw in others.into_iter().map(ShopperKey::from).filter(|k| *k != pinned) {
                prop_assert_eq!(&with.place(raw).unwrap().id, &plain.place(raw).unwrap().id);
            }
        }
    }
}
