//! The tax an invoice shows. Prices in the shop include VAT, charged at the
//! standard rate of the country the order goes to (UK and EU destinations:
//! goods and delivery alike); orders to other countries leave as exports,
//! with no VAT charged. Rates are kept here, in basis points.

use serde::{Deserialize, Serialize};

/// Standard VAT rates of the destinations the shop delivers to, in basis
/// points (2000 = 20%).
const STANDARD_RATES: &[(&str, u32)] = &[
    ("GB", 2000),
    ("IE", 2300),
    ("DE", 1900),
    ("FR", 2000),
    ("ES", 2100),
    ("IT", 2200),
    ("NL", 2100),
    ("BE", 2100),
    ("AT", 2000),
    ("DK", 2500),
    ("SE", 2500),
    ("PL", 2300),
];

/// How a gross total splits into net and tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    /// `VAT 20%`, or `No VAT (export)`.
    pub label: String,
    pub rate_basis_points: u32,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub gross_minor: i64,
}

/// The VAT contained in `gross_minor` for an order going to `country`
/// (rounded half away from zero to the minor unit).
pub fn breakdown(country: &str, gross_minor: i64) -> Breakdown {
    let rate = STANDARD_RATES
        .iter()
        .find(|(code, _)| *code == country)
        .map_or(0, |(_, rate)| *rate);
    let tax_minor = if rate == 0 {
        0
    } else {
        let numerator = i128::from(gross_minor) * i128::from(rate);
        let denominator = 10_000 + i128::from(rate);
        let rounded = (2 * numerator + denominator) / (2 * denominator);
        i64::try_from(rounded).unwrap_or(0)
    };
    let label = if rate == 0 {
        "No VAT (export)".to_owned()
    } else if rate % 100 == 0 {
        format!("VAT {}%", rate / 100)
    } else {
        format!("VAT {}.{}%", rate / 100, (rate % 100) / 10)
    };
    Breakdown {
        label,
        rate_basis_points: rate,
        net_minor: gross_minor - tax_minor,
        tax_minor,
        gross_minor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_is_taken_out_of_the_gross() {
        let uk = breakdown("GB", 12_000);
        assert_eq!((uk.net_minor, uk.tax_minor), (10_000, 2_000));
        assert_eq!(uk.label, "VAT 20%");
        let de = breakdown("DE", 11_900);
        assert_eq!((de.net_minor, de.tax_minor), (10_000, 1_900));
        // 1 minor unit at 20%: 0.1666… rounds to 0.
        assert_eq!(breakdown("GB", 1).tax_minor, 0);
        // 3 at 20%: 0.5 rounds up.
        assert_eq!(breakdown("GB", 3).tax_minor, 1);
    }

    #[test]
    fn exports_carry_no_vat() {
        let us = breakdown("US", 5_000);
        assert_eq!((us.net_minor, us.tax_minor), (5_000, 0));
        assert_eq!(us.label, "No VAT (export)");
    }
}
