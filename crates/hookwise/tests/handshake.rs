//! Sender handshakes with the senders' documented payloads, answered only for
//! authenticated requests.

use hmac::{Hmac, KeyInit, Mac};
use hookwise::scheme::SignParams;
use hookwise::{FixedClock, HeaderList, RequestParts, Scheme, Verifier, providers};

const NOW: i64 = 1_654_503_849;

fn verified(
    scheme: Scheme,
    secret: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> (Verifier, HeaderList, hookwise::Delivery) {
    let v = Verifier::builder(scheme.clone())
        .secret(secret)
        .unwrap()
        .clock(FixedClock::new(NOW))
        .without_replay_store()
        .build()
        .unwrap();
    let mut h = scheme
        .sign(
            secret,
            body,
            &SignParams {
                timestamp: Some(NOW),
                id: Some("m-1"),
                ..SignParams::default()
            },
        )
        .unwrap()
        .headers;
    for (n, val) in extra {
        h.push(*n, *val);
    }
    let d = v.verify(&RequestParts::new(&h), body).unwrap();
    (v, h, d)
}

#[test]
fn slack_url_verification_echoes_the_challenge() {
    // From Slack's Events API docs.
    let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let (v, h, d) = verified(providers::slack(), "slack-secret", body, &[]);
    let r = v.handshake(&RequestParts::new(&h), &d, body).unwrap();
    assert_eq!(
        (r.status, r.content_type, r.kind),
        (200, "application/json", "slack.url_verification")
    );
    assert_eq!(
        r.body,
        br#"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#
    );
    // An ordinary event is not a handshake.
    let event = br#"{"type":"event_callback","event":{"type":"message"},"event_id":"Ev1"}"#;
    let (v, h, d) = verified(providers::slack(), "slack-secret", event, &[]);
    assert!(v.handshake(&RequestParts::new(&h), &d, event).is_none());
}

#[test]
fn zoom_url_validation_returns_the_hmac_of_the_plain_token() {
    // From Zoom's "Validate your webhook endpoint" docs.
    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let (v, h, d) = verified(providers::zoom(), "zoom-secret-token", body, &[]);
    let r = v.handshake(&RequestParts::new(&h), &d, body).unwrap();
    let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"zoom-secret-token").unwrap();
    m.update(b"qgg8vlvZRS6UYooatFL8Aw");
    let expected = hex::encode(m.finalize().into_bytes());
    let got: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(got["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(got["encryptedToken"], expected.as_str());
}

#[test]
fn twitch_callback_verification_echoes_the_challenge_as_text() {
    // From Twitch's EventSub docs.
    let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"1"}}"#;
    let (v, h, d) = verified(
        providers::twitch(),
        "twitch-secret-123",
        body,
        &[(
            "Twitch-Eventsub-Message-Type",
            "webhook_callback_verification",
        )],
    );
    let r = v.handshake(&RequestParts::new(&h), &d, body).unwrap();
    assert_eq!(
        (r.status, r.content_type),
        (200, "text/plain; charset=utf-8")
    );
    assert_eq!(r.body, b"pogchamp-kappa-360noscope-vohiyo");
    // The message-type header is not signed: the same captured body re-sent as
    // a `notification` is still the handshake, and never reaches the handler.
    let (v, h, d) = verified(
        providers::twitch(),
        "twitch-secret-123",
        body,
        &[("Twitch-Eventsub-Message-Type", "notification")],
    );
    let r = v.handshake(&RequestParts::new(&h), &d, body).unwrap();
    assert_eq!(r.body, b"pogchamp-kappa-360noscope-vohiyo");
    // A real notification is not a handshake, and its event type is the
    // signed body's, whatever the (unsigned) subscription-type header says.
    let note = br#"{"subscription":{"id":"f1c2","type":"channel.follow","version":"2"},"event":{"user_id":"1234"}}"#;
    let (v, h, d) = verified(
        providers::twitch(),
        "twitch-secret-123",
        note,
        &[
            ("Twitch-Eventsub-Message-Type", "notification"),
            ("Twitch-Eventsub-Subscription-Type", "channel.ban"),
        ],
    );
    assert!(v.handshake(&RequestParts::new(&h), &d, note).is_none());
    assert_eq!(d.event_type(), Some("channel.follow"));
}

#[test]
fn discord_ping_gets_a_pong() {
    let scheme = providers::discord();
    let private = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    let public = scheme.public_key_for(private).unwrap();
    let body = br#"{"application_id":"1","id":"2","token":"t","type":1,"version":1}"#;
    let v = Verifier::builder(scheme.clone())
        .secret(&public)
        .unwrap()
        .clock(FixedClock::new(NOW))
        .without_replay_store()
        .build()
        .unwrap();
    let h = scheme
        .sign(
            private,
            body,
            &SignParams {
                timestamp: Some(NOW),
                ..SignParams::default()
            },
        )
        .unwrap()
        .headers;
    let d = v.verify(&RequestParts::new(&h), body).unwrap();
    let r = v.handshake(&RequestParts::new(&h), &d, body).unwrap();
    assert_eq!(r.body, br#"{"type":1}"#);
    // Webhook events (another Discord product, same signatures): PING is type 0,
    // answered 204; type 1 is an event, for the handler.
    let signed = |body: &[u8]| {
        let h = scheme
            .sign(
                private,
                body,
                &SignParams {
                    timestamp: Some(NOW),
                    ..SignParams::default()
                },
            )
            .unwrap()
            .headers;
        let d = v.verify(&RequestParts::new(&h), body).unwrap();
        v.handshake(&RequestParts::new(&h), &d, body)
    };
    let ping = signed(br#"{"version":1,"application_id":"1","type":0}"#).unwrap();
    assert_eq!((ping.status, ping.body.len()), (204, 0));
    let event = br#"{"version":1,"application_id":"1","type":1,"event":{"type":"APPLICATION_AUTHORIZED","timestamp":"2024-10-18T14:42:53.064834","data":{}}}"#;
    assert!(signed(event).is_none(), "an event goes to the handler");
    // A forged PING never gets that far: verification fails first.
    let forged = HeaderList::new()
        .with("X-Signature-Ed25519", "00".repeat(64))
        .with("X-Signature-Timestamp", NOW.to_string());
    assert_eq!(
        v.verify(&RequestParts::new(&forged), body)
            .unwrap_err()
            .status(),
        401
    );
}

#[test]
fn meta_subscription_get_needs_the_verify_token() {
    let v = Verifier::builder(providers::meta())
        .secret("app-secret")
        .unwrap()
        .meta_verify_token("my-verify-token")
        .unwrap()
        .build()
        .unwrap();
    let h = HeaderList::new();
    let ok = RequestParts::new(&h).method("GET").uri("/webhooks/meta?hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444");
    let r = v.pre_handshake(&ok).unwrap().unwrap();
    assert_eq!(r.body, b"1158201444");
    let bad = RequestParts::new(&h)
        .method("GET")
        .uri("/webhooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1");
    assert_eq!(
        v.pre_handshake(&bad).unwrap().unwrap_err().code(),
        "invalid_credentials"
    );
    let post = RequestParts::new(&h)
        .method("POST")
        .uri("/webhooks/meta?hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1");
    assert!(v.pre_handshake(&post).is_none());
    // Without a configured token there is no unsigned path at all.
    let plain = Verifier::new(providers::meta(), "app-secret").unwrap();
    assert!(plain.pre_handshake(&ok).is_none());
}

#[test]
fn meta_subscription_get_passes_the_network_checks_first() {
    let v = Verifier::builder(providers::meta())
        .secret("app-secret")
        .unwrap()
        .meta_verify_token("my-verify-token")
        .unwrap()
        .require(hookwise::Check::ip(
            hookwise::IpAllowList::new(["192.0.2.0/24"]).unwrap(),
        ))
        .build()
        .unwrap();
    let h = HeaderList::new();
    let get = |peer: Option<&str>| {
        RequestParts::new(&h)
            .method("GET")
            .uri("/webhooks/meta?hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=7")
            .peer(peer.map(|p| p.parse().unwrap()))
    };
    assert_eq!(
        v.pre_handshake(&get(Some("192.0.2.9:443")))
            .unwrap()
            .unwrap()
            .body,
        b"7"
    );
    for peer in [Some("203.0.113.1:443"), None] {
        assert_eq!(
            v.pre_handshake(&get(peer)).unwrap().unwrap_err().code(),
            "forbidden_address",
            "{peer:?}"
        );
    }
}
