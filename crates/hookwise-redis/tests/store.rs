//! `RedisStore` against a real `redis-server` (see `support/mod.rs`: spawned
//! on a free loopback port, or `REDIS_URL`; skipped without a binary unless
//! `CI=true`).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookwise::replay::{Admission, ReplayStore, Reserve, Token};
use hookwise::scheme::SignParams;
use hookwise::{FixedClock, RequestParts, Verifier, providers};
use hookwise_redis::{ErrorKind, RedisStore};
use support::{RedisServer, eventually};

const MIN: Duration = Duration::from_secs(60);

/// A prefix of its own for each test, so tests sharing one `REDIS_URL` never meet.
fn unique_prefix(test: &str) -> String {
    format!("hookwise-test:{test}:{}", Token::new().as_str())
}

async fn store(redis: &RedisServer, test: &str) -> RedisStore {
    RedisStore::builder(redis.url())
        .prefix(unique_prefix(test))
        .connect()
        .await
        .expect("connect to the test Redis")
}

async fn raw(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn reserve_commit_release_contract() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let s = store(&redis, "contract").await;
    let (a, b) = (Token::new(), Token::new());
    assert_ne!(a, b);
    assert_eq!(s.reserve("k", &a, MIN).await.unwrap(), Reserve::Reserved);
    assert_eq!(s.reserve("k", &b, MIN).await.unwrap(), Reserve::InFlight);
    // Another token cannot release or commit a reservation it does not hold.
    s.release("k", &b).await.unwrap();
    assert_eq!(s.reserve("k", &b, MIN).await.unwrap(), Reserve::InFlight);
    s.commit("k", &b, MIN).await.unwrap();
    assert_eq!(s.reserve("k", &b, MIN).await.unwrap(), Reserve::InFlight);
    // The holder releases: the retry gets through.
    s.release("k", &a).await.unwrap();
    assert_eq!(s.reserve("k", &b, MIN).await.unwrap(), Reserve::Reserved);
    s.commit("k", &b, MIN).await.unwrap();
    assert_eq!(s.reserve("k", &a, MIN).await.unwrap(), Reserve::Committed);
    // A committed entry cannot be released (not even by its former holder).
    s.release("k", &b).await.unwrap();
    s.release("k", &a).await.unwrap();
    assert_eq!(s.reserve("k", &a, MIN).await.unwrap(), Reserve::Committed);
}

#[tokio::test]
async fn release_of_another_instances_token_is_refused() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let prefix = unique_prefix("other-token");
    // Two instances: two stores, two connections, one Redis.
    let a = RedisStore::builder(redis.url())
        .prefix(prefix.clone())
        .connect()
        .await
        .unwrap();
    let b = RedisStore::builder(redis.url())
        .prefix(prefix)
        .connect()
        .await
        .unwrap();
    let (ta, tb) = (Token::new(), Token::new());
    assert_eq!(
        a.reserve("stripe:evt_1", &ta, MIN).await.unwrap(),
        Reserve::Reserved
    );
    assert_eq!(
        b.reserve("stripe:evt_1", &tb, MIN).await.unwrap(),
        Reserve::InFlight
    );
    b.release("stripe:evt_1", &tb).await.unwrap();
    b.commit("stripe:evt_1", &tb, MIN).await.unwrap();
    let mut conn = raw(&redis).await;
    let v: Option<String> = redis::cmd("GET")
        .arg(a.redis_key("stripe:evt_1"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(v.as_deref(), Some(ta.as_str()), "A's reservation untouched");
    a.release("stripe:evt_1", &ta).await.unwrap();
    assert_eq!(
        b.reserve("stripe:evt_1", &tb, MIN).await.unwrap(),
        Reserve::Reserved
    );
}

#[tokio::test]
async fn commit_without_a_reservation_records_the_delivery() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let s = store(&redis, "commit-free").await;
    // E.g. the reservation expired while the handler ran: the success still counts.
    s.commit("k", &Token::new(), MIN).await.unwrap();
    assert_eq!(
        s.reserve("k", &Token::new(), MIN).await.unwrap(),
        Reserve::Committed
    );
}

#[tokio::test]
async fn keys_values_and_ttls_written() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let s = RedisStore::builder(redis.url())
        .prefix(unique_prefix("layout"))
        .connect()
        .await
        .unwrap();
    let key = s.redis_key("github:sig:ab");
    assert_eq!(key, format!("{}:github:sig:ab", s.prefix()));
    let mut conn = raw(&redis).await;
    let get_pttl = |conn: &mut redis::aio::MultiplexedConnection| {
        let mut conn = conn.clone();
        let key = key.clone();
        async move {
            let v: Option<String> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap();
            let pttl: i64 = redis::cmd("PTTL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap();
            (v, pttl)
        }
    };

    let t = Token::new();
    s.reserve("github:sig:ab", &t, Duration::from_secs(300))
        .await
        .unwrap();
    let (v, pttl) = get_pttl(&mut conn).await;
    assert_eq!(v.as_deref(), Some(t.as_str()));
    assert!((290_000..=300_000).contains(&pttl), "{pttl}");

    s.commit("github:sig:ab", &t, Duration::from_secs(86_400))
        .await
        .unwrap();
    let (v, pttl) = get_pttl(&mut conn).await;
    assert_eq!(v.as_deref(), Some(hookwise_redis::COMMITTED));
    assert!((86_390_000..=86_400_000).contains(&pttl), "{pttl}");

    s.release("github:sig:ab", &t).await.unwrap();
    let (v, _) = get_pttl(&mut conn).await;
    assert_eq!(v.as_deref(), Some(hookwise_redis::COMMITTED));
}

#[tokio::test]
async fn entries_expire_after_their_ttl() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let s = store(&redis, "ttl").await;
    let t = Token::new();
    assert_eq!(
        s.reserve("k", &t, Duration::from_millis(50)).await.unwrap(),
        Reserve::Reserved
    );
    assert_eq!(
        s.reserve("k", &Token::new(), MIN).await.unwrap(),
        Reserve::InFlight
    );
    // A reservation that is neither committed nor released frees itself.
    eventually(
        Duration::from_secs(5),
        "the reservation expires",
        || async {
            (s.reserve("k", &Token::new(), Duration::from_millis(50))
                .await
                .unwrap()
                == Reserve::Reserved)
                .then_some(())
        },
    )
    .await;
    // So does a commit after its retention.
    let t = Token::new();
    s.reserve("k2", &t, MIN).await.unwrap();
    s.commit("k2", &t, Duration::from_millis(50)).await.unwrap();
    assert_eq!(
        s.reserve("k2", &Token::new(), MIN).await.unwrap(),
        Reserve::Committed
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    eventually(Duration::from_secs(5), "the commit expires", || async {
        (s.reserve("k2", &Token::new(), MIN).await.unwrap() == Reserve::Reserved).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reserve_has_exactly_one_winner() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let prefix = unique_prefix("race");
    // Four "instances", each with its own connection.
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(
            RedisStore::builder(redis.url())
                .prefix(prefix.clone())
                .op_timeout(Duration::from_secs(2))
                .connect()
                .await
                .unwrap(),
        );
    }
    for round in 0..100 {
        let key = format!("race-{round}");
        let barrier = Arc::new(tokio::sync::Barrier::new(16));
        let mut tasks = Vec::new();
        for i in 0..16 {
            let (s, key, barrier) = (stores[i % 4].clone(), key.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                s.reserve(&key, &Token::new(), MIN).await.unwrap()
            }));
        }
        let mut winners = 0;
        for t in tasks {
            if t.await.unwrap() == Reserve::Reserved {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

#[tokio::test]
async fn prefixes_isolate_applications() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let base = unique_prefix("ns");
    let a = RedisStore::builder(redis.url())
        .prefix(format!("{base}:a"))
        .connect()
        .await
        .unwrap();
    let b = RedisStore::builder(redis.url())
        .prefix(format!("{base}:b"))
        .connect()
        .await
        .unwrap();
    let t = Token::new();
    assert_eq!(a.reserve("k", &t, MIN).await.unwrap(), Reserve::Reserved);
    assert_eq!(b.reserve("k", &t, MIN).await.unwrap(), Reserve::Reserved);
    a.commit("k", &t, MIN).await.unwrap();
    assert_eq!(
        a.reserve("k", &Token::new(), MIN).await.unwrap(),
        Reserve::Committed
    );
    assert_eq!(
        b.reserve("k", &Token::new(), MIN).await.unwrap(),
        Reserve::InFlight
    );
    // Replay keys are namespaced by scheme: the same id from two senders is two keys.
    assert_eq!(
        a.reserve("github:1", &t, MIN).await.unwrap(),
        Reserve::Reserved
    );
    assert_eq!(
        a.reserve("stripe:1", &t, MIN).await.unwrap(),
        Reserve::Reserved
    );
}

#[tokio::test]
async fn paused_redis_times_out_then_recovers() {
    let Some(redis) = RedisServer::spawn() else {
        return;
    };
    let s = RedisStore::builder(redis.url())
        .op_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    assert_eq!(
        s.reserve("k0", &Token::new(), MIN).await.unwrap(),
        Reserve::Reserved
    );
    redis.pause();
    for op in 0..3 {
        let started = Instant::now();
        let e = s.reserve("k1", &Token::new(), MIN).await.unwrap_err();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "op {op} took {took:?}");
        assert!(e.to_string().contains("redis reserve"), "{e}");
        let started = Instant::now();
        assert!(s.commit("k1", &Token::new(), MIN).await.is_err());
        assert!(s.release("k1", &Token::new()).await.is_err());
        assert!(started.elapsed() < Duration::from_secs(3));
    }
    redis.resume();
    let outcome = eventually(Duration::from_secs(10), "store answers again", || async {
        s.reserve("k2", &Token::new(), MIN).await.ok()
    })
    .await;
    assert_eq!(outcome, Reserve::Reserved);
}

#[tokio::test]
async fn killed_redis_errors_then_recovers_on_restart() {
    let Some(mut redis) = RedisServer::spawn() else {
        return;
    };
    let s = RedisStore::builder(redis.url())
        .op_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    let t = Token::new();
    assert_eq!(s.reserve("k", &t, MIN).await.unwrap(), Reserve::Reserved);
    redis.stop();
    for _ in 0..5 {
        let started = Instant::now();
        assert!(s.reserve("k", &Token::new(), MIN).await.is_err());
        assert!(s.commit("k", &t, MIN).await.is_err());
        assert!(s.release("k", &t).await.is_err());
        assert!(started.elapsed() < Duration::from_secs(3));
    }
    // A fresh server on the same port: the connection manager reconnects, and
    // the scripts are loaded again (the new server has none).
    redis.restart();
    let outcome = eventually(Duration::from_secs(10), "store answers again", || async {
        s.reserve("k-after", &Token::new(), MIN).await.ok()
    })
    .await;
    assert_eq!(outcome, Reserve::Reserved);
    let t = Token::new();
    assert_eq!(s.reserve("k2", &t, MIN).await.unwrap(), Reserve::Reserved);
    s.commit("k2", &t, MIN).await.unwrap();
    assert_eq!(
        s.reserve("k2", &Token::new(), MIN).await.unwrap(),
        Reserve::Committed
    );
}

#[tokio::test]
async fn connect_to_an_unreachable_redis_fails_fast() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let e = RedisStore::builder(&format!("redis://:hunter2@127.0.0.1:{port}/"))
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(e.kind(), ErrorKind::Unreachable);
    let msg = e.to_string();
    assert!(msg.contains("cannot connect to Redis"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[tokio::test]
async fn wrong_password_is_an_error_at_connect() {
    let Some(redis) = RedisServer::spawn_with(&["--requirepass", "s3cret"]) else {
        return;
    };
    let url = |pass: &str| format!("redis://:{pass}@127.0.0.1:{}/", redis.port());
    let e = RedisStore::builder(&url("wrong-one"))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unreachable);
    assert!(!e.to_string().contains("wrong-one"), "{e}");
    let s = RedisStore::builder(&url("s3cret")).connect().await.unwrap();
    assert!(!format!("{s:?}").contains("s3cret"));
    assert_eq!(
        s.reserve("k", &Token::new(), MIN).await.unwrap(),
        Reserve::Reserved
    );
}

#[tokio::test]
async fn connect_lazy_starts_without_redis() {
    let Some(mut redis) = RedisServer::spawn() else {
        return;
    };
    redis.stop();
    let s = RedisStore::builder(redis.url())
        .op_timeout(Duration::from_millis(200))
        .connect_lazy()
        .unwrap();
    assert!(s.reserve("k", &Token::new(), MIN).await.is_err());
    redis.restart();
    eventually(Duration::from_secs(10), "lazy store connects", || async {
        s.reserve("k", &Token::new(), MIN).await.ok()
    })
    .await;
}

#[tokio::test]
async fn from_manager_uses_the_callers_connection() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let client = redis::Client::open(redis.url()).unwrap();
    let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
    let s = RedisStore::from_manager(manager)
        .with_prefix(unique_prefix("from-manager"))
        .with_op_timeout(Duration::from_secs(1));
    assert_eq!(s.op_timeout(), Duration::from_secs(1));
    let t = Token::new();
    assert_eq!(s.reserve("k", &t, MIN).await.unwrap(), Reserve::Reserved);
    s.commit("k", &t, MIN).await.unwrap();
    assert_eq!(s.reserve("k", &t, MIN).await.unwrap(), Reserve::Committed);
}

// ---- through the verifier ------------------------------------------------

const SECRET: &str = "whsec_redis_test_secret";
const TS: i64 = 1_700_000_000;

fn verifier(store: RedisStore, fail_open: bool) -> Verifier {
    Verifier::builder(providers::stripe())
        .secret(SECRET)
        .unwrap()
        .clock(FixedClock::new(TS + 30))
        .replay_store(store)
        .fail_open(fail_open)
        .build()
        .unwrap()
}

async fn admit(v: &Verifier, id: &str) -> Result<Admission, hookwise::Rejection> {
    let body = format!(r#"{{"id":"{id}","type":"payment_intent.succeeded"}}"#);
    let signed = providers::stripe()
        .sign(
            SECRET,
            body.as_bytes(),
            &SignParams {
                timestamp: Some(TS),
                ..Default::default()
            },
        )
        .unwrap();
    let delivery = v
        .verify(&RequestParts::new(&signed.headers), body.as_bytes())
        .unwrap();
    v.admit(&delivery).await
}

#[tokio::test]
async fn verifier_answers_503_while_redis_is_down_and_recovers() {
    let Some(mut redis) = RedisServer::spawn() else {
        return;
    };
    let store = RedisStore::builder(redis.url())
        .op_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    let v = verifier(store.clone(), false);
    let open = verifier(store, true);

    let Admission::Proceed(guard) = admit(&v, "evt_1").await.unwrap() else {
        panic!("first delivery must proceed");
    };
    guard.commit().await.unwrap();
    assert!(matches!(
        admit(&v, "evt_1").await.unwrap(),
        Admission::Duplicate
    ));
    let in_flight = admit(&v, "evt_2").await.unwrap();
    let e = admit(&v, "evt_2").await.unwrap_err();
    assert_eq!((e.status(), e.code()), (409, "duplicate_in_flight"));
    drop(in_flight);

    redis.stop();
    for _ in 0..3 {
        let e = admit(&v, "evt_3").await.unwrap_err();
        assert_eq!((e.status(), e.code()), (503, "store_unavailable"));
    }
    // Fail-open is the verifier's explicit choice: accepted without protection.
    let Admission::Proceed(guard) = admit(&open, "evt_3").await.unwrap() else {
        panic!("fail-open proceeds");
    };
    guard.commit().await.unwrap();

    redis.restart();
    let guard = eventually(Duration::from_secs(10), "verifier admits again", || async {
        match admit(&v, "evt_4").await {
            Ok(Admission::Proceed(g)) => Some(g),
            Ok(Admission::Duplicate) => panic!("evt_4 was never processed"),
            Err(e) => {
                assert_eq!(e.code(), "store_unavailable");
                None
            }
        }
    })
    .await;
    guard.commit().await.unwrap();
    assert!(matches!(
        admit(&v, "evt_4").await.unwrap(),
        Admission::Duplicate
    ));
}
