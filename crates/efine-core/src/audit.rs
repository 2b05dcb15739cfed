//! The hash chain of the event log. Each event carries the hash of the one before it, so editing
//! or removing any stored event breaks every hash after it, and `verify` names the first break.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// The `prev_hash` of the first event.
pub const GENESIS: Hash = [0u8; 32];

/// One event as stored. `payload` is JSON text, hashed exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub seq: i64,
    pub at_micros: i64,
    pub kind: String,
    pub subject: String,
    pub actor: String,
    pub payload: String,
    pub prev_hash: Hash,
    pub hash: Hash,
}

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// The hash of an event: SHA-256 over a version tag, the previous hash and every field,
/// each length-prefixed so no two different events share an encoding.
pub fn event_hash(
    prev: &Hash,
    seq: i64,
    at_micros: i64,
    kind: &str,
    subject: &str,
    actor: &str,
    payload: &str,
) -> Hash {
    let mut h = Sha256::new();
    field(&mut h, b"efine-event-v1");
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at_micros.to_be_bytes());
    field(&mut h, kind.as_bytes());
    field(&mut h, subject.as_bytes());
    field(&mut h, actor.as_bytes());
    field(&mut h, payload.as_bytes());
    h.finalize().into()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Checks events in order, one at a time, so a chain of any length verifies in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    prev: Hash,
    next_seq: i64,
    count: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            prev: GENESIS,
            next_seq: 1,
            count: 0,
        }
    }
}

impl ChainVerifier {
    /// A verifier that continues the chain after event `seq`, whose hash is `hash` (a head an
    /// earlier run verified), so only the events after it need reading.
    pub fn after(seq: i64, hash: Hash) -> Self {
        ChainVerifier {
            prev: hash,
            next_seq: seq + 1,
            count: 0,
        }
    }

    pub fn push(&mut self, e: &EventRecord) -> Result<(), ChainBreak> {
        if e.seq != self.next_seq {
            return Err(ChainBreak {
                seq: e.seq,
                reason: format!("expected event {} here: an event is missing", self.next_seq),
            });
        }
        if e.prev_hash != self.prev {
            return Err(ChainBreak {
                seq: e.seq,
                reason: "its previous-hash does not match the event before it".into(),
            });
        }
        let want = event_hash(
            &e.prev_hash,
            e.seq,
            e.at_micros,
            &e.kind,
            &e.subject,
            &e.actor,
            &e.payload,
        );
        if want != e.hash {
            return Err(ChainBreak {
                seq: e.seq,
                reason: "its contents do not match its hash: the row was altered".into(),
            });
        }
        self.prev = e.hash;
        self.next_seq += 1;
        self.count += 1;
        Ok(())
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn head(&self) -> Hash {
        self.prev
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<EventRecord> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let payload = format!("{{\"n\":{seq}}}");
                let hash = event_hash(
                    &prev,
                    seq,
                    seq * 10,
                    "challan.issued",
                    "X",
                    "officer",
                    &payload,
                );
                let e = EventRecord {
                    seq,
                    at_micros: seq * 10,
                    kind: "challan.issued".into(),
                    subject: "X".into(),
                    actor: "officer".into(),
                    payload,
                    prev_hash: prev,
                    hash,
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies() {
        let mut v = ChainVerifier::default();
        for e in chain(5) {
            v.push(&e).unwrap();
        }
        assert_eq!(v.count(), 5);
    }

    #[test]
    fn a_verified_head_continues_the_chain() {
        let es = chain(5);
        let mut v = ChainVerifier::after(2, es[1].hash);
        es[2..].iter().try_for_each(|e| v.push(e)).unwrap();
        assert_eq!((v.count(), v.head()), (3, es[4].hash));
        let mut wrong = ChainVerifier::after(2, es[0].hash);
        assert_eq!(wrong.push(&es[2]).unwrap_err().seq, 3);
    }

    #[test]
    fn altered_payload_is_named() {
        let mut es = chain(5);
        es[2].payload = "{\"n\":99}".into();
        let mut v = ChainVerifier::default();
        let err = es.iter().try_for_each(|e| v.push(e)).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("altered"));
    }

    #[test]
    fn removed_event_is_named() {
        let mut es = chain(5);
        es.remove(1);
        let mut v = ChainVerifier::default();
        let err = es.iter().try_for_each(|e| v.push(e)).unwrap_err();
        assert_eq!(err.seq, 3);
    }

    #[test]
    fn rehashed_event_breaks_the_next_link() {
        let mut es = chain(5);
        es[1].actor = "someone-else".into();
        es[1].hash = event_hash(
            &es[1].prev_hash,
            2,
            20,
            "challan.issued",
            "X",
            "someone-else",
            &es[1].payload,
        );
        let mut v = ChainVerifier::default();
        let err = es.iter().try_for_each(|e| v.push(e)).unwrap_err();
        assert_eq!(err.seq, 3);
    }
}
