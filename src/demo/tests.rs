//! The demo server over real HTTP on 127.0.0.1:0, with no artificial delay.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{DemoConfig, DemoServer};

/// A config for fast, deterministic tests; `f` adjusts it.
fn config(f: impl FnOnce(&mut DemoConfig)) -> DemoConfig {
    let mut config = DemoConfig {
        latency_scale: 0.0,
        error_rate: 0.0,
        ..DemoConfig::default()
    };
    f(&mut config);
    config
}

struct Harness {
    server: DemoServer,
    client: Client,
}

impl Harness {
    async fn start(config: DemoConfig) -> Harness {
        let server = DemoServer::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        Harness {
            server,
            client: Client::new(),
        }
    }

    fn url(&self, route: &str) -> String {
        format!("{}/api/v1/{route}", self.server.base_url())
    }

    async fn login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({ "username": username, "password": password });
        let response = self
            .client
            .post(self.url("auth/login/"))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn token(&self, username: &str) -> String {
        let (status, body) = self.login(username, "loadpass123").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access"].as_str().unwrap().to_owned()
    }

    /// Sends `request` and returns status and JSON body.
    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn get(&self, token: &str, route: &str) -> (StatusCode, Value) {
        self.send(self.client.get(self.url(route)).bearer_auth(token))
            .await
    }

    async fn post(&self, token: &str, route: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            self.client
                .post(self.url(route))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    async fn patch(&self, token: &str, route: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            self.client
                .patch(self.url(route))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }
}

#[tokio::test]
async fn login_returns_jwt_shaped_tokens_naming_the_user() {
    let h = Harness::start(config(|_| {})).await;
    let (status, body) = h.login("loaduser042", "loadpass123").await;
    assert_eq!(status, StatusCode::OK);
    for kind in ["access", "refresh"] {
        let token = body[kind].as_str().unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        let payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(payload["username"], "loaduser042");
        assert_eq!(payload["token_type"], kind);
    }
    assert_eq!(h.login("admin", "adminpass").await.0, StatusCode::OK);
}

#[tokio::test]
async fn login_refuses_bad_credentials_and_incomplete_bodies() {
    let h = Harness::start(config(|_| {})).await;
    let refused = json!({ "detail": "No active account found with the given credentials" });
    for (user, password) in [
        ("loaduser001", "nope"),
        ("loaduser201", "loadpass123"),
        ("admin", "loadpass123"),
    ] {
        assert_eq!(
            h.login(user, password).await,
            (StatusCode::UNAUTHORIZED, refused.clone()),
            "{user}"
        );
    }

    let (status, body) = h
        .send(h.client.post(h.url("auth/login/")).json(&json!({})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({ "username": ["This field is required."], "password": ["This field is required."] })
    );

    let (status, body) = h
        .send(
            h.client
                .post(h.url("auth/login/"))
                .json(&json!({ "username": "admin" })),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({ "password": ["This field is required."] })
        )
    );

    let request = h
        .client
        .post(h.url("auth/login/"))
        .header("content-type", "application/json")
        .body("{oops");
    let (status, body) = h.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error - "),
        "{body}"
    );
}

#[tokio::test]
async fn routes_require_a_valid_bearer_token_except_health() {
    let h = Harness::start(config(|_| {})).await;
    let (status, body) = h.send(h.client.get(h.url("projects/"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({ "detail": "Authentication credentials were not provided." })
    );

    let token = h.token("loaduser001").await;
    let tampered = format!("{}x", &token[..token.len() - 1]);
    let (status, body) = h.get(&tampered, "tasks/").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_not_valid");

    let (_, login) = h.login("loaduser001", "loadpass123").await;
    let (status, _) = h.get(login["refresh"].as_str().unwrap(), "tasks/").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a refresh token is not an access token"
    );

    let (status, body) = h.send(h.client.get(h.url("health/"))).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "ok" })));
    assert_eq!(h.get(&token, "projects/").await.0, StatusCode::OK);
}

#[tokio::test]
async fn lists_paginate_like_drf() {
    let h = Harness::start(config(|_| {})).await;
    let token = h.token("loaduser002").await;
    let base = h.server.base_url();

    let (status, page) = h.get(&token, "projects/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 57);
    assert_eq!(page["results"].as_array().unwrap().len(), 20);
    assert_eq!(page["next"], format!("{base}/api/v1/projects/?page=2"));
    assert_eq!(page["previous"], Value::Null);
    let first = &page["results"][0];
    for field in [
        "id",
        "name",
        "status",
        "client",
        "start_date",
        "budget",
        "progress",
    ] {
        assert!(!first[field].is_null(), "projects have {field}: {first}");
    }

    let (_, page) = h.get(&token, "projects/?page=2&page_size=50").await;
    assert_eq!(page["results"].as_array().unwrap().len(), 7);
    assert_eq!(page["next"], Value::Null);
    assert_eq!(
        page["previous"],
        format!("{base}/api/v1/projects/?page_size=50")
    );

    let (_, page) = h.get(&token, "projects/?page_size=10000").await;
    assert_eq!(
        page["results"].as_array().unwrap().len(),
        57,
        "capped at 500, so all fit"
    );

    let (status, body) = h.get(&token, "projects/?page=9").await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({ "detail": "Invalid page." }))
    );

    let (_, page) = h
        .get(&token, "tasks/?project=3&status=Completed&page_size=500")
        .await;
    let results = page["results"].as_array().unwrap();
    assert_eq!(page["count"].as_u64().unwrap() as usize, results.len());
    assert!(
        results
            .iter()
            .all(|t| t["project"] == 3 && t["status"] == "Completed")
    );

    let (status, body) = h.get(&token, "tasks/?status=Done").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["status"].is_array(), "{body}");

    let (status, page) = h.get(&token, "time-entries/?page_size=5").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["results"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn details_exist_or_are_404() {
    let h = Harness::start(config(|_| {})).await;
    let token = h.token("loaduser003").await;
    let (status, project) = h.get(&token, "projects/5/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(project["id"], 5);
    for field in ["address", "end_date", "project_manager", "spent", "tasks"] {
        assert!(!project[field].is_null(), "detail has {field}: {project}");
    }
    let not_found = json!({ "detail": "Not found." });
    for route in [
        "projects/58/",
        "projects/0/",
        "projects/abc/",
        "tasks/999999/",
        "nowhere/",
        "projects",
    ] {
        assert_eq!(
            h.get(&token, route).await,
            (StatusCode::NOT_FOUND, not_found.clone()),
            "{route}"
        );
    }
}

#[tokio::test]
async fn tasks_are_created_validated_and_updated() {
    let h = Harness::start(config(|_| {})).await;
    let token = h.token("loaduser004").await;

    let (status, task) = h
        .post(
            &token,
            "tasks/",
            json!({ "title": "Paint fence", "project": 7, "priority": "high" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(task["title"], "Paint fence");
    assert_eq!(task["status"], "Pending", "default status");
    assert_eq!(task["priority"], "high");
    let id = task["id"].as_u64().unwrap();

    let (_, page) = h.get(&token, "tasks/?project=7").await;
    assert_eq!(page["results"][0]["id"], id, "newest first");

    let (status, body) = h
        .post(
            &token,
            "tasks/",
            json!({ "title": "x", "project": 7, "status": "Done" }),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({ "status": ["\"Done\" is not a valid choice."] })
        )
    );

    let (status, body) = h
        .post(&token, "tasks/", json!({ "priority": "critical" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "title": ["This field is required."],
            "project": ["This field is required."],
            "priority": ["\"critical\" is not a valid choice."],
        })
    );
    let (status, body) = h
        .post(&token, "tasks/", json!({ "title": "x", "project": 999 }))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({ "project": ["Invalid pk \"999\" - object does not exist."] })
        )
    );

    let route = format!("tasks/{id}/");
    let (status, task) = h
        .patch(&token, &route, json!({ "status": "In Progress" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (task["status"].as_str(), task["title"].as_str()),
        (Some("In Progress"), Some("Paint fence"))
    );
    assert_eq!(h.get(&token, &route).await.1["status"], "In Progress");
    assert_eq!(
        h.patch(&token, &route, json!({ "priority": "meh" }))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        h.patch(&token, "tasks/999999/", json!({ "status": "Completed" }))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bulk_update_changes_existing_tasks_only() {
    let h = Harness::start(config(|_| {})).await;
    let token = h.token("loaduser005").await;
    let (_, page) = h.get(&token, "tasks/?status=Pending").await;
    let ids: Vec<u64> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);

    let body = json!({ "task_ids": [ids[0], ids[1], ids[1], 999_999], "action": "status", "value": "Completed" });
    assert_eq!(
        h.post(&token, "tasks/bulk-update/", body).await,
        (StatusCode::OK, json!({ "updated": 2 }))
    );
    for id in &ids {
        assert_eq!(
            h.get(&token, &format!("tasks/{id}/")).await.1["status"],
            "Completed"
        );
    }

    let cases = [
        (
            json!({ "task_ids": [], "action": "status", "value": "Completed" }),
            "task_ids",
        ),
        (
            json!({ "task_ids": [1], "action": "explode", "value": "Completed" }),
            "action",
        ),
        (
            json!({ "task_ids": [1], "action": "status", "value": "Done" }),
            "value",
        ),
        (
            json!({ "task_ids": [1], "action": "priority", "value": "Completed" }),
            "value",
        ),
        (
            json!({ "task_ids": ["one"], "action": "status", "value": "Completed" }),
            "task_ids",
        ),
    ];
    for (body, field) in cases {
        let (status, errors) = h.post(&token, "tasks/bulk-update/", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(errors[field].is_array(), "{body} → {errors}");
    }
    assert_eq!(
        h.get(&token, "tasks/bulk-update/").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn time_entries_validate_dates_and_times() {
    let h = Harness::start(config(|_| {})).await;
    let token = h.token("loaduser006").await;
    let valid = json!({ "employee": 6, "project": 2, "date": "2025-06-02", "start_time": "07:30" });
    let (status, entry) = h.post(&token, "time-entries/", valid).await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    assert_eq!(entry["start_time"], "07:30:00");
    assert_eq!(entry["end_time"], Value::Null);
    assert!(entry["id"].as_u64().is_some());

    let (_, entry) = h.post(&token, "time-entries/", json!({ "employee": 6, "project": 2, "date": "2025-06-02", "start_time": "07:30:00", "end_time": "16:00" })).await;
    assert_eq!(entry["hours_worked"], "8.50");

    let (status, body) = h
        .post(
            &token,
            "time-entries/",
            json!({ "employee": 6, "project": 2, "date": "2025-13-01", "start_time": "25:00" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
            "start_time": ["Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]]."],
        })
    );
    let (status, body) = h
        .post(&token, "time-entries/", json!({ "project": 2 }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["employee", "date", "start_time"] {
        assert_eq!(body[field], json!(["This field is required."]), "{field}");
    }
}

#[tokio::test]
async fn photo_upload_echoes_the_bytes_received() {
    let h = Harness::start(config(|_| {})).await;
    let token = h.token("loaduser007").await;
    let image = vec![0xa5_u8; 123_457];
    let form = reqwest::multipart::Form::new()
        .part(
            "image",
            reqwest::multipart::Part::bytes(image)
                .file_name("wall.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        )
        .text("project", "3")
        .text("caption", "North wall after prime");
    let (status, body) = h
        .send(
            h.client
                .post(h.url("site-photos/"))
                .bearer_auth(&token)
                .multipart(form),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["size"], 123_457);
    assert_eq!(body["project"], 3);
    assert_eq!(body["caption"], "North wall after prime");
    assert_eq!(body["uploaded_by"], "loaduser007");
    assert!(body["image"].as_str().unwrap().ends_with(".jpg"));

    // Above axum's default 2 MB body limit, which this route raises.
    let big = reqwest::multipart::Part::bytes(vec![0_u8; 3 << 20]).file_name("roof.png");
    let form = reqwest::multipart::Form::new().part("image", big);
    let (status, body) = h
        .send(
            h.client
                .post(h.url("site-photos/"))
                .bearer_auth(&token)
                .multipart(form),
        )
        .await;
    assert_eq!(
        (status, &body["size"]),
        (StatusCode::CREATED, &json!(3 << 20))
    );

    let form = reqwest::multipart::Form::new().text("caption", "no file");
    let (status, body) = h
        .send(
            h.client
                .post(h.url("site-photos/"))
                .bearer_auth(&token)
                .multipart(form),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({ "image": ["No file was submitted."] })
        )
    );

    let (status, _) = h
        .post(&token, "site-photos/", json!({ "image": "base64?" }))
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn the_throttle_answers_429_with_retry_after_per_account() {
    let h = Harness::start(config(|c| c.throttle_per_minute = Some(5))).await;
    let alice = h.token("loaduser010").await;
    let bob = h.token("loaduser011").await;
    for _ in 0..5 {
        assert_eq!(h.get(&alice, "projects/").await.0, StatusCode::OK);
    }
    let response = h
        .client
        .get(h.url("projects/"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    let want = format!("Request was throttled. Expected available in {retry_after} seconds.");
    assert_eq!(body["detail"], want);

    assert_eq!(
        h.get(&bob, "projects/").await.0,
        StatusCode::OK,
        "bob has his own budget"
    );
    assert_eq!(
        h.login("loaduser010", "loadpass123").await.0,
        StatusCode::OK,
        "login is not throttled"
    );
}

#[tokio::test]
async fn an_error_rate_of_one_fails_every_request_but_health() {
    let seed = 77;
    let healthy = Harness::start(config(|c| c.seed = seed)).await;
    let token = healthy.token("loaduser012").await;
    let failing = Harness::start(config(|c| {
        c.seed = seed;
        c.error_rate = 1.0;
    }))
    .await;
    let internal = (
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({ "detail": "Internal server error" }),
    );
    // Same seed, same signing key: the healthy server's token is good here.
    assert_eq!(failing.get(&token, "projects/").await, internal);
    assert_eq!(failing.login("loaduser012", "loadpass123").await, internal);
    assert_eq!(
        failing
            .send(failing.client.get(failing.url("health/")))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        failing
            .send(failing.client.get(failing.url("projects/")))
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "auth comes first"
    );
}

#[tokio::test]
async fn aggregates_and_search_answer() {
    let h = Harness::start(config(|_| {})).await;
    let token = h.token("loaduser013").await;

    let (status, kpis) = h.get(&token, "bi/kpis/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kpis["projects"]["total"], 57);
    assert!(kpis["tasks"]["total"].as_u64().unwrap() > 100);

    let (status, dashboard) = h.get(&token, "dashboards/admin/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dashboard["projects"].as_array().unwrap().len(), 57);
    assert_eq!(dashboard["recent_tasks"].as_array().unwrap().len(), 10);

    let (status, items) = h.get(&token, "schedule/items/?project=4").await;
    assert_eq!(status, StatusCode::OK);
    let items = items.as_array().unwrap();
    assert!(!items.is_empty() && items.iter().all(|i| i["project"] == 4));
    let (status, errors) = h.get(&token, "schedule/items/?start=yesterday").await;
    assert_eq!(
        (status, errors),
        (
            StatusCode::BAD_REQUEST,
            json!({ "start": ["Enter a valid date."] })
        )
    );

    let (status, found) = h.get(&token, "search/?q=kitchen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(found["count"].as_u64().unwrap() > 0);
    assert!(found["results"].as_array().unwrap().iter().all(|r| {
        r["title"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("kitchen")
    }));
    let (status, errors) = h.get(&token, "search/").await;
    assert_eq!(
        (status, errors),
        (
            StatusCode::BAD_REQUEST,
            json!({ "q": ["This field is required."] })
        )
    );
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let h = Harness::start(config(|_| {})).await;
    let response = h.client.delete(h.url("projects/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        response.headers()["allow"]
            .to_str()
            .unwrap()
            .contains("GET")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "detail": "Method \"DELETE\" not allowed." }));
}

#[tokio::test]
async fn shutdown_stops_serving_and_bad_configs_are_refused() {
    let h = Harness::start(config(|_| {})).await;
    let addr = h.server.addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    assert_eq!(
        h.server.base_url(),
        format!("http://127.0.0.1:{}", addr.port())
    );
    let url = h.url("health/");
    assert!(h.client.get(&url).send().await.is_ok());
    h.server.shutdown().await;
    assert!(
        Client::new().get(&url).send().await.is_err(),
        "nothing listens any more"
    );

    let addr = "127.0.0.1:0".parse().unwrap();
    for bad in [
        config(|c| c.error_rate = 1.5),
        config(|c| c.latency_scale = f64::NAN),
        config(|c| c.latency_scale = -1.0),
    ] {
        let error = DemoServer::start(addr, bad).await.err().unwrap();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    }
}
