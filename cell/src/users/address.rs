//! A postal address, parsed: required fields present and bounded, the
//! country an ISO 3166-1 alpha-2 code we ship to, the postcode in that
//! country's shape (normalised: upper case, single spaces).

use wire::users::AddressRequest;

/// Whether a normalised postcode has a country's shape.
type PostcodeShape = fn(&str) -> bool;

/// Countries the shop ships to, with their postcode shape.
const COUNTRIES: &[(&str, PostcodeShape)] = &[
    ("GB", uk_postcode),
    ("IE", |p| {
        p.len() == 8
            && p.as_bytes()[3] == b' '
            && p.bytes()
                .filter(|b| *b != b' ')
                .all(|b| b.is_ascii_alphanumeric())
    }),
    ("US", |p| {
        digits(&p[..p.len().min(5)], 5)
            && (p.len() == 5 || (p.len() == 10 && p.as_bytes()[5] == b'-' && digits(&p[6..], 4)))
    }),
    ("CA", |p| {
        p.len() == 7 && p.as_bytes()[3] == b' ' && alternating(&p.replace(' ', ""))
    }),
    ("DE", |p| digits(p, 5)),
    ("FR", |p| digits(p, 5)),
    ("ES", |p| digits(p, 5)),
    ("IT", |p| digits(p, 5)),
    ("NL", |p| {
        p.len() == 7
            && digits(&p[..4], 4)
            && p.as_bytes()[4] == b' '
            && p[5..].bytes().all(|b| b.is_ascii_uppercase())
    }),
    ("BE", |p| digits(p, 4)),
    ("AT", |p| digits(p, 4)),
    ("CH", |p| digits(p, 4)),
    ("DK", |p| digits(p, 4)),
    ("SE", |p| {
        p.len() == 6 && digits(&p[..3], 3) && p.as_bytes()[3] == b' ' && digits(&p[4..], 2)
    }),
    ("PL", |p| {
        p.len() == 6 && digits(&p[..2], 2) && p.as_bytes()[2] == b'-' && digits(&p[3..], 3)
    }),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postcode: String,
    pub country: String,
    pub phone: Option<String>,
}

/// The field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidAddress {
    pub field: &'static str,
    pub problem: String,
}

fn invalid(field: &'static str, problem: impl Into<String>) -> InvalidAddress {
    InvalidAddress {
        field,
        problem: problem.into(),
    }
}

fn required(field: &'static str, value: &str, max: usize) -> Result<String, InvalidAddress> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if value.is_empty() {
        return Err(invalid(field, "is required"));
    }
    optional(field, Some(&value), max).map(|v| v.unwrap_or_default())
}

fn optional(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, InvalidAddress> {
    let Some(value) = value
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(invalid(field, format!("has at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "holds control characters"));
    }
    Ok(Some(value))
}

impl Address {
    pub fn parse(request: &AddressRequest) -> Result<Self, InvalidAddress> {
        let country = request.country.trim().to_uppercase();
        let (_, postcode_ok) = COUNTRIES
            .iter()
            .find(|(code, _)| *code == country)
            .ok_or_else(|| {
                invalid(
                    "country",
                    format!("\"{country}\" is not a country we ship to"),
                )
            })?;
        let postcode = request
            .postcode
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase();
        // The shape checks index bytes: only ASCII gets that far.
        if postcode.is_empty()
            || postcode.len() > 12
            || !postcode.is_ascii()
            || !postcode_ok(&postcode)
        {
            return Err(invalid(
                "postcode",
                format!("\"{postcode}\" is not a postcode of {country}"),
            ));
        }
        let phone = optional("phone", request.phone.as_deref(), 20)?;
        if let Some(phone) = &phone
            && !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-()".contains(c))
        {
            return Err(invalid("phone", "may hold digits, spaces, + - ( ) only"));
        }
        Ok(Self {
            full_name: required("full_name", &request.full_name, 100)?,
            line1: required("line1", &request.line1, 100)?,
            line2: optional("line2", request.line2.as_deref(), 100)?,
            city: required("city", &request.city, 60)?,
            region: optional("region", request.region.as_deref(), 60)?,
            postcode,
            country,
            phone,
        })
    }
}

fn digits(text: &str, count: usize) -> bool {
    text.len() == count && text.bytes().all(|b| b.is_ascii_digit())
}

/// Letter, digit, letter … (Canadian `A1A1A1`).
fn alternating(text: &str) -> bool {
    text.len() == 6
        && text.bytes().enumerate().all(|(i, b)| {
            if i % 2 == 0 {
                b.is_ascii_uppercase()
            } else {
                b.is_ascii_digit()
            }
        })
}

/// UK postcodes: outward code (2-4 characters) and inward code (digit, two
/// letters), e.g. `SW1A 1AA`, `M1 1AE`.
fn uk_postcode(text: &str) -> bool {
    let Some((outward, inward)) = text.split_once(' ') else {
        return false;
    };
    let inward = inward.as_bytes();
    (2..=4).contains(&outward.len())
        && outward.as_bytes()[0].is_ascii_uppercase()
        && outward.bytes().all(|b| b.is_ascii_alphanumeric())
        && inward.len() == 3
        && inward[0].is_ascii_digit()
        && inward[1..].iter().all(u8::is_ascii_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(country: &str, postcode: &str) -> AddressRequest {
        AddressRequest {
            full_name: "  Ada   Lovelace ".into(),
            line1: "12 St James's Square".into(),
            line2: None,
            city: "London".into(),
            region: Some(" ".into()),
            postcode: postcode.into(),
            country: country.into(),
            phone: Some("+44 20 7946 0000".into()),
            is_default: None,
        }
    }

    #[test]
    fn an_address_is_normalised() {
        let address = Address::parse(&request("gb", "sw1y  4lg")).unwrap();
        assert_eq!(address.full_name, "Ada Lovelace");
        assert_eq!(address.postcode, "SW1Y 4LG");
        assert_eq!(address.country, "GB");
        assert_eq!(address.region, None);
    }

    #[test]
    fn postcodes_follow_their_country() {
        for (country, good, bad) in [
            ("GB", "M1 1AE", "12345"),
            ("US", "94105-1804", "9410"),
            ("DE", "10115", "1011"),
            ("NL", "1012 AB", "1012AB"),
            ("CA", "K1A 0B1", "K1A0B1"),
            ("PL", "00-950", "00950"),
            ("US", "94105", "9410É"),
        ] {
            assert!(
                Address::parse(&request(country, good)).is_ok(),
                "{country} {good}"
            );
            let error = Address::parse(&request(country, bad)).unwrap_err();
            assert_eq!(error.field, "postcode", "{country} {bad}");
        }
    }

    #[test]
    fn missing_fields_and_unknown_countries_are_named() {
        let mut missing = request("GB", "M1 1AE");
        missing.city = "   ".into();
        assert_eq!(Address::parse(&missing).unwrap_err().field, "city");
        assert_eq!(
            Address::parse(&request("XX", "1")).unwrap_err().field,
            "country"
        );
        let mut long = request("GB", "M1 1AE");
        long.line1 = "x".repeat(101);
        assert_eq!(Address::parse(&long).unwrap_err().field, "line1");
        let mut phone = request("GB", "M1 1AE");
        phone.phone = Some("call me".into());
        assert_eq!(Address::parse(&phone).unwrap_err().field, "phone");
    }
}
