use cell::Config;
use chassis::config::Settings;
use figment::Figment;

use crate::helpers::test_settings;

fn error_of(overrides: Figment) -> String {
    Config::with_overrides(test_settings().merge(overrides))
        .unwrap_err()
        .to_string()
}

#[test]
fn the_base_settings_ask_for_a_signing_key() {
    let error = Config::with_overrides(Figment::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("auth.signing_key_files"), "{error}");
    assert!(error.contains("openssl genpkey"), "{error}");
}

#[test]
fn the_base_settings_with_a_throw_away_key_are_valid() {
    Config::with_overrides(Figment::new().merge(("auth.ephemeral_key", true))).unwrap();
}

#[test]
fn a_bcrypt_cost_out_of_range_is_rejected() {
    let error = error_of(Figment::new().merge(("auth.bcrypt_cost", 40)));
    assert!(error.contains("auth.bcrypt_cost"), "{error}");
}

#[test]
fn a_wrongly_typed_value_names_its_setting() {
    let error = error_of(Figment::new().merge(("http.port", "eighty")));
    assert!(error.contains("http.port"), "{error}");
}

#[test]
fn an_unknown_key_is_rejected() {
    let error = error_of(Figment::new().merge(("http.prot", 1)));
    assert!(
        error.contains("unknown field") && error.contains("prot"),
        "{error}"
    );
}

#[test]
fn a_bad_cell_id_is_rejected() {
    let error = error_of(Figment::new().merge(("cell.id", "Cell 0")));
    assert!(error.starts_with("configuration: cell.id:"), "{error}");
}

#[test]
fn a_non_mysql_url_is_rejected_without_showing_the_password() {
    let error = error_of(Figment::new().merge(("mysql.url", "postgres://u:secret@h:5432/db")));
    assert!(error.contains("mysql.url"), "{error}");
    assert!(!error.contains("secret"), "{error}");
}

#[test]
fn the_binary_exits_non_zero_with_one_line_for_an_unknown_env_key() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cell"))
        .env("CELL__HTTP__PROT", "1")
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("cell: configuration:"), "{stderr}");
    assert!(stderr.contains("prot"), "{stderr}");
    assert!(stderr.contains("CELL__"), "{stderr}");
}
