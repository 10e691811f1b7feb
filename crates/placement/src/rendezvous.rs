use wire::RoutedCell;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::ShopperKey;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    #[error(
        "no cell accepts new shoppers (every cell is draining, drained, failed or has weight 0)"
    )]
    NoCellAcceptsShoppers,
}

/// The cell a shopper without an override belongs to: weighted rendezvous
/// hashing over the cells that keep their shoppers (active; failed: a
/// failed cell's shoppers stay its own, served in a degraded way, so that
/// a failure moves no shopper to an empty home; draining: each shopper
/// stays until moved).
///
/// Each eligible cell scores the key with `weight / -ln(u)`, where `u` is a
/// uniform draw in (0, 1) from hashing the key with the cell id; the highest
/// score wins. A cell's chance of winning is its share of the total weight,
/// and a change to one cell only moves keys to or from that cell.
pub fn place(key: ShopperKey, cells: &[RoutedCell]) -> Result<&RoutedCell, PlacementError> {
    place_among(key, cells, |cell| cell.state.keeps_its_shoppers())
}

/// The active cell the hash would give `key` if only active cells counted:
/// where a failed cell's shoppers browse meanwhile, and where a draining
/// cell's shoppers move to.
pub fn place_active(key: ShopperKey, cells: &[RoutedCell]) -> Result<&RoutedCell, PlacementError> {
    place_among(key, cells, |cell| cell.state.accepts_new_shoppers())
}

/// Rendezvous over the cells with a weight for which `eligible` holds.
pub fn place_among(
    key: ShopperKey,
    cells: &[RoutedCell],
    eligible: impl Fn(&RoutedCell) -> bool,
) -> Result<&RoutedCell, PlacementError> {
    cells
        .iter()
        .filter(|cell| cell.weight > 0 && eligible(cell))
        .map(|cell| (score(key, cell), cell))
        // Ties (astronomically unlikely) go to the smaller id, so every
        // process picks the same cell whatever order the table lists them in.
        .max_by(|(a, cell_a), (b, cell_b)| a.total_cmp(b).then_with(|| cell_b.id.cmp(&cell_a.id)))
        .map(|(_, cell)| cell)
        .ok_or(PlacementError::NoCellAcceptsShoppers)
}

fn score(key: ShopperKey, cell: &RoutedCell) -> f64 {
    let hash = xxh3_64_with_seed(cell.id.as_bytes(), key.as_u64());
    // The top 53 bits make a double in [0, 1); +0.5 keeps it strictly inside
    // (0, 1) so the logarithm is finite and negative.
    let unit = ((hash >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    f64::from(cell.weight) / -unit.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use wire::CellState;

    fn cells(count: usize) -> Vec<RoutedCell> {
        (0..count)
            .map(|i| RoutedCell {
                id: format!("cell-{i}"),
                weight: 100,
                state: CellState::Active,
            })
            .collect()
    }

    /// Keys spread over the whole 64-bit space, reproducible from run to run.
    fn keys(count: u64) -> impl Iterator<Item = ShopperKey> {
        (0..count).map(|i| ShopperKey::from(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5_A5A5))
    }

    fn owner(key: ShopperKey, cells: &[RoutedCell]) -> String {
        place(key, cells).unwrap().id.clone()
    }

    #[test]
    fn keys_spread_within_five_percent_of_fair_share() {
        let table = cells(10);
        let total = 200_000;
        let mut counts: HashMap<String, u64> = HashMap::new();
        for key in keys(total) {
            *counts.entry(owner(key, &table)).or_default() += 1;
        }
        let fair = total as f64 / 10.0;
        for (cell, count) in counts {
            let deviation = (count as f64 - fair).abs() / fair;
            assert!(deviation < 0.05, "{cell} got {count}, fair share {fair}");
        }
    }

    #[test]
    fn weights_set_the_share() {
        let mut table = cells(2);
        table[1].weight = 300;
        let total = 100_000;
        let heavy = keys(total)
            .filter(|k| owner(*k, &table) == "cell-1")
            .count();
        let share = heavy as f64 / total as f64;
        assert!((share - 0.75).abs() < 0.02, "cell-1 share was {share}");
    }

    #[test]
    fn adding_a_cell_moves_about_its_share_and_only_onto_it() {
        let before = cells(10);
        let after = cells(11);
        let total = 100_000;
        let mut moved = 0;
        for key in keys(total) {
            let (old, new) = (owner(key, &before), owner(key, &after));
            if old != new {
                assert_eq!(new, "cell-10", "a key moved between two old cells");
                moved += 1;
            }
        }
        let share = moved as f64 / total as f64;
        assert!((share - 1.0 / 11.0).abs() < 0.01, "moved share was {share}");
    }

    #[test]
    fn draining_a_cell_moves_only_its_own_keys() {
        let before = cells(5);
        let mut draining = before.clone();
        draining[2].state = CellState::Draining;
        let mut drained = before.clone();
        drained[2].state = CellState::Drained;
        for key in keys(50_000) {
            let old = owner(key, &before);
            // While draining, every shopper stays until moved by an override.
            assert_eq!(owner(key, &draining), old);
            // The move's target is where the hash puts them once drained.
            let target = place_active(key, &draining).unwrap().id.as_str();
            assert_eq!(owner(key, &drained), target);
            if old != "cell-2" {
                assert_eq!(target, old);
            } else {
                assert_ne!(target, "cell-2");
            }
        }
    }

    #[test]
    fn a_failed_cell_keeps_its_keys_and_they_browse_on_active_cells() {
        let before = cells(5);
        let mut after = before.clone();
        after[1].state = CellState::Failed;
        for key in keys(50_000) {
            assert_eq!(owner(key, &after), owner(key, &before));
            let fallback = place_active(key, &after).unwrap();
            assert_ne!(fallback.id, "cell-1");
            if owner(key, &before) != "cell-1" {
                assert_eq!(fallback.id, owner(key, &before));
            }
        }
    }

    #[test]
    fn no_eligible_cell_is_an_error() {
        let mut table = cells(2);
        table[0].state = CellState::Drained;
        table[1].weight = 0;
        assert_eq!(
            place(ShopperKey::from(7), &table),
            Err(PlacementError::NoCellAcceptsShoppers)
        );
    }

    proptest! {
        #[test]
        fn placement_ignores_table_order(raw in any::<u64>(), rotate in 0usize..7) {
            let table = cells(7);
            let mut shuffled = table.clone();
            shuffled.rotate_left(rotate);
            let key = ShopperKey::from(raw);
            prop_assert_eq!(owner(key, &table), owner(key, &shuffled));
        }

        #[test]
        fn placement_is_deterministic(raw in any::<u64>()) {
            let table = cells(4);
            prop_assert_eq!(owner(ShopperKey::from(raw), &table), owner(ShopperKey::from(raw), &table));
        }
    }
}
