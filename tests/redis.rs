//! Several receiver instances sharing one Redis (`HOOKWISE_REDIS_URL`): a
//! delivery is processed exactly once whichever instance gets it, a failure on
//! one instance lets the sender's retry through on another, and a Redis outage
//! answers 503 `store_unavailable` (no panic) until Redis is back.
//!
//! Each test spawns a fresh `redis-server` of its own (see
//! `crates/hookwise-redis/tests/support`): skipped with a message when there is
//! no binary, a failure when `CI=true`.

#[path = "../crates/hookwise-redis/tests/support/mod.rs"]
mod support;

use std::time::Duration;

use hookwise_e2e::{Adapter, Answer, Preset, Receiver, SignedDelivery};
use support::{RedisServer, eventually};

/// Two instances of the given adapters on one Redis.
fn pair(redis: &RedisServer, a: Adapter, b: Adapter, a_vars: &[(&str, &str)]) -> [Receiver; 2] {
    let mut vars = vec![("HOOKWISE_REDIS_URL", redis.url())];
    let a = {
        let mut v = vars.clone();
        v.extend_from_slice(a_vars);
        a.start(&v)
    };
    // A small handler delay widens the window in which both instances race.
    vars.push(("HOOKWISE_HANDLER_DELAY_MS", "20"));
    let b = b.start(&vars);
    [a, b]
}

/// Sends `d` `n` times to each receiver, all at once; returns every answer.
async fn burst(receivers: &[Receiver; 2], d: &SignedDelivery, n: usize) -> Vec<Answer> {
    let mut tasks = Vec::new();
    for i in 0..2 * n {
        let (r, d) = (receivers[i % 2].clone(), d.clone());
        tasks.push(tokio::spawn(async move { r.send(&d).await }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("sender task"));
    }
    answers
}

fn describe(answers: &[Answer]) -> String {
    answers
        .iter()
        .map(|a| {
            format!(
                "{}{}",
                a.status,
                if a.is_duplicate() { "(dup)" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn exactly_once(a: Adapter, b: Adapter) {
    let Some(redis) = RedisServer::spawn() else {
        return;
    };
    let receivers = pair(&redis, a, b, &[]);
    for round in 0..30 {
        let preset = [Preset::Stripe, Preset::Github, Preset::Standard][round % 3];
        let d = preset.delivery();
        let answers = burst(&receivers, &d, 6).await;
        let processed = answers.iter().filter(|a| a.processed()).count();
        assert_eq!(
            processed,
            1,
            "{a:?}+{b:?} round {round} ({preset:?}): {}",
            describe(&answers)
        );
        // Everything else was told "duplicate" (200 + header) or "in flight" (409).
        for ans in &answers {
            assert!(
                ans.processed() || ans.is_duplicate() || ans.status == 409,
                "{a:?}+{b:?} round {round}: unexpected {} {}",
                ans.status,
                ans.text()
            );
        }
        // Once settled, both instances answer "duplicate".
        for r in &receivers {
            let again = eventually(Duration::from_secs(5), "settled duplicate", || async {
                let ans = r.send(&d).await;
                (ans.status != 409).then_some(ans)
            })
            .await;
            assert!(
                again.is_duplicate(),
                "{:?}: {} {}",
                r.adapter,
                again.status,
                again.text()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_and_axum_process_a_delivery_exactly_once() {
    exactly_once(Adapter::Axum, Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_and_actix_process_a_delivery_exactly_once() {
    exactly_once(Adapter::Actix, Adapter::Actix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_and_actix_process_a_delivery_exactly_once() {
    exactly_once(Adapter::Axum, Adapter::Actix).await;
}

/// The handler fails on A (`HOOKWISE_FAIL_FIRST`): the sender's retry, which
/// the load balancer sends to B, is processed there; afterwards both say duplicate.
async fn failure_on_one_instance_retry_on_the_other(a: Adapter, b: Adapter) {
    let Some(redis) = RedisServer::spawn() else {
        return;
    };
    let [ra, rb] = pair(&redis, a, b, &[("HOOKWISE_FAIL_FIRST", "1")]);
    for preset in [Preset::Stripe, Preset::Github, Preset::Slack] {
        let d = preset.delivery();
        let first = ra.send(&d).await;
        assert_eq!(first.status, 500, "{a:?} first attempt: {}", first.text());
        // The release may land just after A's answer: a 409 means "retry later".
        let retry = eventually(Duration::from_secs(5), "retry processed on B", || async {
            let ans = rb.send(&d).await;
            (ans.status != 409).then_some(ans)
        })
        .await;
        assert!(
            retry.processed(),
            "{b:?} retry of {preset:?}: {} {}",
            retry.status,
            retry.text()
        );
        for r in [&ra, &rb] {
            let again = r.send(&d).await;
            assert!(
                again.is_duplicate(),
                "{:?}: {} {}",
                r.adapter,
                again.status,
                again.text()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_failure_then_retry_on_axum() {
    failure_on_one_instance_retry_on_the_other(Adapter::Axum, Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_failure_then_retry_on_actix() {
    failure_on_one_instance_retry_on_the_other(Adapter::Actix, Adapter::Actix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_failure_then_retry_on_actix() {
    failure_on_one_instance_retry_on_the_other(Adapter::Axum, Adapter::Actix).await;
}

/// Redis stops mid-test: both instances answer 503 `store_unavailable` and
/// keep serving; when Redis is back they process deliveries again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_answers_503_then_recovers() {
    let Some(mut redis) = RedisServer::spawn() else {
        return;
    };
    let receivers = pair(&redis, Adapter::Axum, Adapter::Actix, &[]);
    for r in &receivers {
        let ans = r.send(&Preset::Stripe.delivery()).await;
        assert!(
            ans.processed(),
            "{:?}: {} {}",
            r.adapter,
            ans.status,
            ans.text()
        );
    }

    redis.stop();
    for _ in 0..3 {
        for r in &receivers {
            let d = Preset::Stripe.delivery();
            let ans = r.send(&d).await;
            assert_eq!(
                (ans.status, ans.error().as_deref()),
                (503, Some("store_unavailable")),
                "{:?}: {}",
                r.adapter,
                ans.text()
            );
        }
    }
    // Concurrent requests during the outage: all 503, none hangs.
    let answers = burst(&receivers, &Preset::Github.delivery(), 8).await;
    assert!(
        answers.iter().all(|a| a.status == 503),
        "{}",
        describe(&answers)
    );

    redis.restart();
    for r in &receivers {
        let d = Preset::Stripe.delivery();
        let ans = eventually(Duration::from_secs(10), "service recovers", || async {
            let ans = r.send(&d).await;
            (ans.status != 503).then_some(ans)
        })
        .await;
        assert!(
            ans.processed(),
            "{:?}: {} {}",
            r.adapter,
            ans.status,
            ans.text()
        );
        let again = r.send(&d).await;
        assert!(again.is_duplicate(), "{:?}: {}", r.adapter, again.status);
    }
}
