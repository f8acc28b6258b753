//! What a handler learns about a verified delivery.

use std::borrow::Cow;

/// The verified metadata of a delivery.
///
/// Everything here comes from the verified request. [`Delivery::replay_key`]
/// is derived **only** from signed material (a signed id, or a hash of the
/// signature), so an attacker cannot change it; [`Delivery::id`] is the id as
/// the sender named it, which for some senders (GitHub, Shopify) travels in an
/// unsigned header ([`Delivery::id_is_signed`] tells).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The sender, e.g. `github` (the provider name used everywhere in hookwise).
    pub provider: Cow<'static, str>,
    /// The delivery id as the sender named it, if any.
    pub id: Option<String>,
    /// Whether [`Delivery::id`] is covered by the signature.
    pub id_is_signed: bool,
    /// The signed timestamp, in Unix seconds, if the sender signs one.
    pub timestamp: Option<i64>,
    /// The event type, if the sender says (e.g. `push`, `payment_intent.succeeded`).
    pub event_type: Option<String>,
    /// The key that matched (its label, or `key-<index>`).
    pub key: Cow<'static, str>,
    /// The replay-store key: `<provider>:<signed id>` or `<provider>:sig:<hash>`.
    pub replay_key: String,
}

impl Delivery {
    /// The sender.
    pub fn provider(&self) -> &str {
        &self.provider
    }
    /// The delivery id, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    /// The event type, if any.
    pub fn event_type(&self) -> Option<&str> {
        self.event_type.as_deref()
    }
    /// The key that matched.
    pub fn key(&self) -> &str {
        &self.key
    }
    /// The key for the replay store.
    pub fn replay_key(&self) -> &str {
        &self.replay_key
    }
}
