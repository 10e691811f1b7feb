//! The auth domain's types, parsed once at the edge of the domain: a
//! normalised [`Email`], a [`Password`] that meets the policy, [`Role`]s.

use std::fmt;

/// An e-mail address, trimmed and lower-cased, checked for a plausible shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEmail(&'static str);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let email = raw.trim().to_lowercase();
        if email.len() > 254 {
            return Err(InvalidEmail(
                "An e-mail address has at most 254 characters.",
            ));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(InvalidEmail("An e-mail address needs an @."));
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        if !local_ok {
            return Err(InvalidEmail("The part before the @ is not valid."));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !domain_ok {
            return Err(InvalidEmail("The part after the @ is not a valid domain."));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that meets the policy: 12 to 72 bytes (bcrypt reads no more),
/// not among the most common passwords, not the e-mail address itself.
/// Never printed.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WeakPassword(pub &'static str);

const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

impl Password {
    pub fn parse(raw: &str, email: &Email) -> Result<Self, WeakPassword> {
        if raw.chars().count() < 12 {
            return Err(WeakPassword("Use at least 12 characters."));
        }
        if raw.len() > 72 {
            return Err(WeakPassword("Use at most 72 bytes (about 72 letters)."));
        }
        let lowered = raw.to_lowercase();
        if COMMON_PASSWORDS
            .lines()
            .any(|common| common.trim() == lowered)
        {
            return Err(WeakPassword(
                "This password is one of the most common ones; choose another.",
            ));
        }
        if lowered == email.as_str()
            || lowered == email.as_str().split('@').next().unwrap_or_default()
        {
            return Err(WeakPassword(
                "Do not use your e-mail address as your password.",
            ));
        }
        let first = raw.chars().next();
        if raw.chars().all(|c| Some(c) == first) {
            return Err(WeakPassword("Do not repeat one character."));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    User,
    Admin,
    Sre,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
            Role::Sre => "sre",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            "sre" => Some(Role::Sre),
            _ => None,
        }
    }

    /// Roles stored as `user,admin`; unknown names are ignored.
    pub fn parse_list(text: &str) -> Vec<Self> {
        let mut roles: Vec<Role> = text
            .split(',')
            .filter_map(|r| Role::parse(r.trim()))
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email() -> Email {
        Email::parse("ada@example.com").unwrap()
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada.Lovelace@Example.COM ")
                .unwrap()
                .as_str(),
            "ada.lovelace@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@exa mple.com",
            "a..b@example.com",
            "ada@-x.com",
            ".ada@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_password_policy_holds() {
        assert!(Password::parse("short", &email()).is_err());
        assert!(Password::parse("password1234", &email()).is_err());
        assert!(Password::parse("PASSWORD1234", &email()).is_err());
        assert!(Password::parse("ada@example.com", &email()).is_err());
        assert!(Password::parse("aaaaaaaaaaaaaaaa", &email()).is_err());
        assert!(Password::parse(&"x".repeat(40).replace("xx", "xy"), &email()).is_ok());
        assert!(
            Password::parse(&"é".repeat(40), &email()).is_err(),
            "80 bytes passed"
        );
        assert!(Password::parse("correct horse battery staple", &email()).is_ok());
    }

    #[test]
    fn a_password_never_prints() {
        let password = Password::parse("correct horse battery staple", &email()).unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
    }

    #[test]
    fn roles_parse_from_their_stored_list() {
        assert_eq!(
            Role::parse_list("user,admin,bogus,user"),
            vec![Role::User, Role::Admin]
        );
    }

    proptest! {
        #[test]
        fn email_parsing_never_panics(text in ".{0,300}") {
            let _ = Email::parse(&text);
        }

        #[test]
        fn a_parsed_email_parses_to_itself(local in "[a-z0-9]{1,20}", domain in "[a-z0-9]{1,20}\\.[a-z]{2,6}") {
            let email = Email::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email);
        }
    }
}
