use serde_json::{Value, json};

use crate::helpers::{TestApp, code_of, spawn_app};

fn address(line1: &str) -> Value {
    json!({
        "full_name": "Ada Lovelace",
        "line1": line1,
        "city": "London",
        "postcode": "sw1y 4lg",
        "country": "gb",
        "phone": "+44 20 7946 0000"
    })
}

impl TestApp {
    async fn addresses(&self, token: &str) -> Value {
        self.get_ok("/api/me/addresses", token).await
    }

    async fn save_address(&self, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}/api/me/addresses", self.address))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_shopper_saves_normalised_addresses_and_the_first_is_the_default() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in("ada@example.com").await;

    let first = app
        .save_address(&token, &address("12 St James's Square"))
        .await;
    let second = app.save_address(&token, &address("1 Oxford Street")).await;

    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        (first["postcode"].as_str(), first["country"].as_str()),
        (Some("SW1Y 4LG"), Some("GB"))
    );
    assert_eq!(first["is_default"], true);
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["is_default"], false);
    let mut third = address("221B Baker Street");
    third["is_default"] = json!(true);
    let third: Value = app.save_address(&token, &third).await.json().await.unwrap();
    let listed = app.addresses(&token).await;
    let defaults: Vec<&Value> = listed["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["is_default"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["id"], third["id"]);
}

#[tokio::test]
async fn an_invalid_address_names_its_field_and_saves_nothing() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in("ada@example.com").await;
    let mut bad = address("12 St James's Square");
    bad["postcode"] = json!("12345");

    let response = app.save_address(&token, &bad).await;

    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 422);
    assert_eq!(body["code"], "invalid_address");
    assert!(
        body["message"].as_str().unwrap().contains("postcode"),
        "{body}"
    );
    assert!(
        app.addresses(&token).await["addresses"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_shopper_cannot_read_change_or_delete_another_shoppers_address() {
    let app = spawn_app().await;
    let (ada, _) = app.sign_in("ada@example.com").await;
    let (bob, _) = app.sign_in("bob@example.com").await;
    let saved: Value = app
        .save_address(&ada, &address("12 St James's Square"))
        .await
        .json()
        .await
        .unwrap();
    let url = format!(
        "{}/api/me/addresses/{}",
        app.address,
        saved["id"].as_str().unwrap()
    );

    let change = app
        .client
        .put(&url)
        .bearer_auth(&bob)
        .json(&address("Bob's place"))
        .send()
        .await
        .unwrap();
    let delete = app
        .client
        .delete(&url)
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();

    assert_eq!(code_of(change).await, (404, "address_not_found".into()));
    assert_eq!(code_of(delete).await, (404, "address_not_found".into()));
    assert!(
        app.addresses(&bob).await["addresses"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let adas = app.addresses(&ada).await;
    assert_eq!(adas["addresses"][0]["line1"], "12 St James's Square");
}

#[tokio::test]
async fn deleting_the_default_hands_the_default_to_the_oldest_left() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in("ada@example.com").await;
    let first: Value = app
        .save_address(&token, &address("First"))
        .await
        .json()
        .await
        .unwrap();
    app.save_address(&token, &address("Second")).await;
    app.save_address(&token, &address("Third")).await;

    let deleted = app
        .client
        .delete(format!(
            "{}/api/me/addresses/{}",
            app.address,
            first["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(deleted.status(), 204);
    let listed = app.addresses(&token).await;
    let left = listed["addresses"].as_array().unwrap();
    assert_eq!(left.len(), 2);
    assert_eq!(left[0]["line1"], "Second");
    assert_eq!(left[0]["is_default"], true);
}

#[tokio::test]
async fn an_account_keeps_at_most_twenty_addresses() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in("ada@example.com").await;
    for n in 0..20 {
        assert_eq!(
            app.save_address(&token, &address(&format!("{n} Street")))
                .await
                .status(),
            201
        );
    }
    assert_eq!(
        code_of(app.save_address(&token, &address("One too many")).await).await,
        (422, "too_many_addresses".into())
    );
}

#[tokio::test]
async fn a_shopper_renames_the_account() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in("ada@example.com").await;
    let rename = |name: &'static str| {
        app.client
            .patch(format!("{}/api/me", app.address))
            .bearer_auth(&token)
            .json(&json!({ "name": name }))
            .send()
    };

    let renamed: Value = rename("  Augusta Ada King ")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Augusta Ada King");
    assert_eq!(
        code_of(rename("   ").await.unwrap()).await,
        (422, "invalid_name".into())
    );
    assert!(
        app.client
            .get(format!("{}/api/me/addresses", app.address))
            .send()
            .await
            .unwrap()
            .status()
            == 401
    );
}
