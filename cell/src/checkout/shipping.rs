//! Shipping methods, priced by the destination's zone. Prices are in the
//! order's currency's minor units; standard delivery at home is free above
//! a threshold.

use wire::checkout::ShippingOption;

struct Rate {
    method: &'static str,
    name: &'static str,
    price_minor: i64,
    /// Free when the subtotal reaches this.
    free_from_minor: Option<i64>,
    min_days: u32,
    max_days: u32,
}

const HOME: &[Rate] = &[
    Rate {
        method: "standard",
        name: "Standard delivery",
        price_minor: 395,
        free_from_minor: Some(7500),
        min_days: 2,
        max_days: 4,
    },
    Rate {
        method: "express",
        name: "Next working day",
        price_minor: 895,
        free_from_minor: None,
        min_days: 1,
        max_days: 1,
    },
];

const EUROPE: &[Rate] = &[
    Rate {
        method: "standard",
        name: "Europe standard",
        price_minor: 995,
        free_from_minor: Some(15000),
        min_days: 3,
        max_days: 6,
    },
    Rate {
        method: "express",
        name: "Europe express",
        price_minor: 1995,
        free_from_minor: None,
        min_days: 1,
        max_days: 3,
    },
];

const NORTH_AMERICA: &[Rate] = &[
    Rate {
        method: "standard",
        name: "International standard",
        price_minor: 1495,
        free_from_minor: None,
        min_days: 5,
        max_days: 9,
    },
    Rate {
        method: "express",
        name: "International express",
        price_minor: 2995,
        free_from_minor: None,
        min_days: 2,
        max_days: 4,
    },
];

fn zone(country: &str) -> &'static [Rate] {
    match country {
        "GB" => HOME,
        "US" | "CA" => NORTH_AMERICA,
        _ => EUROPE,
    }
}

/// Whether `country` is served by `method`.
pub fn offers(country: &str, method: &str) -> bool {
    zone(country).iter().any(|rate| rate.method == method)
}

/// The methods for `country` (one the address checks accept), cheapest
/// first, priced for an order of `subtotal_minor`.
pub fn options(country: &str, subtotal_minor: i64, currency: &str) -> Vec<ShippingOption> {
    zone(country)
        .iter()
        .map(|rate| ShippingOption {
            method: rate.method.to_owned(),
            name: rate.name.to_owned(),
            price_minor: match rate.free_from_minor {
                Some(free) if subtotal_minor >= free => 0,
                _ => rate.price_minor,
            },
            currency: currency.to_owned(),
            min_days: rate.min_days,
            max_days: rate.max_days,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_price_differently_and_home_standard_turns_free() {
        let home = options("GB", 1000, "GBP");
        assert_eq!(home[0].price_minor, 395);
        assert_eq!(options("GB", 7500, "GBP")[0].price_minor, 0);
        assert_eq!(options("GB", 7500, "GBP")[1].price_minor, 895);
        assert_eq!(options("DE", 1000, "GBP")[0].price_minor, 995);
        assert_eq!(options("US", 100_000, "GBP")[0].price_minor, 1495);
        assert!(home.iter().all(|o| o.min_days <= o.max_days));
    }
}
