//! Database outage: the server reaches PostGIS through an in-test TCP proxy
//! that the test cuts and restores (the shared cluster is never stopped).
//! While cut: `/ready` is 503, reads answer from memory, writes are 503
//! problem+json and write nothing. Restored: the server reconnects by itself,
//! writes work again and change notifications (LISTEN) resume.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use envatlas_tests::{get, get_json, poll_until, send, TestDatabase, TestServer};
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const TOKEN: &str = "outage-token";

/// A TCP proxy to one upstream address; `cut` drops every connection and
/// refuses new ones until `restore`.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    cut_tx: watch::Sender<u64>,
    _runtime: tokio::runtime::Runtime,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let up = Arc::new(AtomicBool::new(true));
        let (cut_tx, cut_rx) = watch::channel(0u64);
        let accept_up = up.clone();
        runtime.spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !accept_up.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let mut cut = cut_rx.clone();
                // Only cuts after this connection was accepted end it.
                cut.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy {
            addr,
            up,
            cut_tx,
            _runtime: runtime,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut_tx.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn count_in_database(url: &str, id: &str) -> i64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM features WHERE id = $1")
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .expect("count");
        n
    })
}

fn post(s: &TestServer, body: &Value) -> (u16, String, String) {
    let bearer = format!("Bearer {TOKEN}");
    let (status, headers, text) = send(
        "POST",
        &s.url("/api/collections/rural_sites/items"),
        &[("authorization", &bearer)],
        Some(body),
    )
    .expect("post");
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, content_type, text)
}

fn site(id: &str) -> Value {
    json!({"type": "Feature", "id": id,
        "geometry": {"type": "Point", "coordinates": [104.61, 28.71]},
        "properties": {"name_zh": "断网测试", "category": "village"}})
}

#[test]
fn an_outage_is_survived_and_reported() {
    let database = TestDatabase::create().expect("database");
    let direct = reqwest::Url::parse(&database.url).expect("url");
    let upstream = format!(
        "{}:{}",
        direct.host_str().expect("host"),
        direct.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(upstream);
    let mut proxied = direct.clone();
    proxied.set_host(Some("127.0.0.1")).expect("host");
    proxied.set_port(Some(proxy.addr.port())).expect("port");
    let a = TestServer::start_on_database(proxied.as_str(), |c| c.write_token = Some(TOKEN.into()))
        .expect("server through the proxy");
    // A second instance with a direct connection, to write while A recovers.
    let b = TestServer::start_on_database(&database.url, |c| c.write_token = Some(TOKEN.into()))
        .expect("direct server");
    assert_eq!(get(&a.url("/ready")).expect("ready").0, 200);

    proxy.cut();
    let (_, noticed) = poll_until(Duration::from_secs(15), || {
        (get(&a.url("/ready")).expect("ready").0 == 503).then_some(())
    })
    .expect("/ready fails while the database is unreachable");
    let (status, content_type, body) = get(&a.url("/ready")).expect("ready");
    assert_eq!(
        (status, content_type.as_str()),
        (503, "application/problem+json"),
        "{body}"
    );

    // Reads keep answering from memory.
    let (status, items) =
        get_json(&a.url("/api/collections/rural_sites/items?limit=5")).expect("items");
    assert_eq!(status, 200);
    assert_eq!(items["features"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        get(&a.url("/tiles/rural_sites/8/206/107")).expect("tile").0 / 100,
        2
    );

    // Writes are 503 problem+json, and nothing is written.
    let (status, content_type, body) = post(&a, &site("outage-1"));
    assert_eq!(status, 503, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert!(!body.contains("127.0.0.1"), "no internals leak: {body}");
    assert_eq!(count_in_database(&database.url, "outage-1"), 0);
    assert_eq!(
        get(&a.url("/api/collections/rural_sites/items/outage-1"))
            .expect("get")
            .0,
        404
    );

    proxy.restore();
    let (_, recovered) = poll_until(Duration::from_secs(30), || {
        (get(&a.url("/ready")).expect("ready").0 == 200).then_some(())
    })
    .expect("the server reconnects by itself");
    let (status, _, body) = post(&a, &site("outage-2"));
    assert_eq!(status, 201, "writes work again: {body}");
    assert_eq!(count_in_database(&database.url, "outage-2"), 1);

    // Changes made elsewhere reach A again (its LISTEN connection came back,
    // or at worst the fallback poll of the change log).
    let (status, _, body) = post(&b, &site("outage-3"));
    assert_eq!(status, 201, "{body}");
    let (_, propagated) = poll_until(Duration::from_secs(20), || {
        (get(&a.url("/api/collections/rural_sites/items/outage-3"))
            .expect("get")
            .0
            == 200)
            .then_some(())
    })
    .expect("changes by another instance reach A after the outage");
    eprintln!(
        "outage: /ready failed after {} ms; recovered {} ms after restore; a change by B reached A in {} ms",
        noticed.as_millis(),
        recovered.as_millis(),
        propagated.as_millis()
    );
    drop(a);
    drop(b);
    drop(database);
}
