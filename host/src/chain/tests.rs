//! The host's decoding against the metadata of every runtime it knows: the real finney
//! metadata of spec 393 and 424 and the devnet's 459 build (from the 424 registry with
//! the 459 source's changes), each encoding events the way that runtime does.

use vesting_devnet::events::encode_events;
use vesting_devnet::model::{ChainEvent, EventRecord, Phase};
use vesting_devnet::runtime;

use super::events::{self, Event};
use super::{ChainMeta, Profile};

fn meta(spec: u32) -> (ChainMeta, std::sync::Arc<runtime::RuntimeProfile>) {
    let p = runtime::profile(spec).unwrap();
    let bytes = p.md.encoded(15).unwrap();
    let m = ChainMeta::from_bytes(bytes, spec)
        .unwrap_or_else(|e| panic!("spec {spec}: the host refuses the metadata: {e}"));
    (m, p)
}

fn encoded(p: &runtime::RuntimeProfile, list: &[ChainEvent]) -> Vec<u8> {
    let records: Vec<EventRecord> = list
        .iter()
        .map(|e| EventRecord {
            phase: Phase::ApplyExtrinsic(1),
            event: e.clone(),
        })
        .collect();
    encode_events(&p.md, &records, &[]).unwrap()
}

fn stake(added: bool) -> ChainEvent {
    let (coldkey, hotkey) = ([1; 32], [2; 32]);
    if added {
        ChainEvent::StakeAdded {
            coldkey,
            hotkey,
            tao: 5,
            alpha: 7,
            netuid: 3,
            fee: 0,
        }
    } else {
        ChainEvent::StakeRemoved {
            coldkey,
            hotkey,
            tao: 5,
            alpha: 7,
            netuid: 3,
            fee: 0,
        }
    }
}

#[test]
fn spec_393_history_decodes_with_its_own_metadata() {
    let (m, p) = meta(393);
    assert_eq!(m.profile, Profile::of(393));
    // Shares only in the old maps, no dynamic tempo.
    assert!(m.has("SubtensorModule", "Alpha") && !m.has("SubtensorModule", "AlphaV2"));
    assert!(!m.has("SubtensorModule", "LastEpochBlock"));
    let got = events::decode(&m, &encoded(&p, &[stake(true), stake(false)])).unwrap();
    let alphas: Vec<u64> = got
        .records
        .iter()
        .filter_map(|r| match &r.event {
            Event::StakeAdded {
                alpha, netuid: 3, ..
            }
            | Event::StakeRemoved {
                alpha, netuid: 3, ..
            } => Some(*alpha),
            _ => None,
        })
        .collect();
    assert_eq!(alphas, vec![7, 7]);
}

#[test]
fn root_claimed_gains_tao_at_459_and_both_layouts_decode() {
    let mut seen = vec![];
    for (spec, tao) in [(424, 0), (459, 9)] {
        let claim = ChainEvent::RootClaimed {
            coldkey: [4; 32],
            tao,
        };
        let (m, p) = meta(spec);
        let got = events::decode(&m, &encoded(&p, &[claim.clone(), stake(true)])).unwrap();
        for r in got.records {
            if let Event::RootClaimed { coldkey, tao } = r.event {
                seen.push((spec, coldkey, tao));
            }
        }
    }
    assert_eq!(
        seen,
        vec![(424, [4; 32], None), (459, [4; 32], Some(9))],
        "424 has {{coldkey}}, 459 {{coldkey, tao}}"
    );
    assert!(!meta(459).0.profile.root_claim_credits_alpha);
}

#[test]
fn an_unnamed_network_removed_decodes_by_position() {
    use subxt::ext::scale_value::Value;
    // `NetworkRemoved(NetUid)` has no field names in the 424 metadata.
    for spec in [424, 459] {
        let (m, p) = meta(spec);
        let event = Value::unnamed_variant(
            "SubtensorModule",
            [Value::unnamed_variant("NetworkRemoved", [Value::u128(7)])],
        );
        let record = Value::named_composite([
            ("phase", Value::unnamed_variant("Initialization", [])),
            ("event", event),
            ("topics", Value::unnamed_composite([])),
        ]);
        let info = p.md.storage("System", "Events").unwrap();
        let bytes = vesting_devnet::encode::encode(
            p.md.types(),
            info.value_type,
            &Value::unnamed_composite([record]),
        )
        .unwrap();
        let got = events::decode(&m, &bytes).unwrap();
        assert_eq!(
            got.records
                .iter()
                .map(|r| r.event.clone())
                .collect::<Vec<_>>(),
            vec![Event::NetworkRemoved { netuid: 7 }],
            "spec {spec}"
        );
    }
}

/// Events bytes whose list length is replaced by `len` (SCALE compact, big-integer mode).
fn with_claimed_len(bytes: &[u8], len: u32) -> Vec<u8> {
    // Two events: the original length is the one-byte compact 2 << 2.
    assert_eq!(bytes[0], 2 << 2);
    let mut out = vec![0b11];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&bytes[1..]);
    out
}

#[test]
fn a_list_length_the_bytes_cannot_hold_is_an_error_not_an_abort() {
    for spec in [393, 424, 459] {
        let (m, p) = meta(spec);
        let good = encoded(&p, &[stake(true), stake(false)]);
        // Without the walk first, building the value reserves u32::MAX items up front
        // (hundreds of GB) and the allocator aborts the process.
        let e = events::decode(&m, &with_claimed_len(&good, u32::MAX))
            .err()
            .unwrap_or_else(|| panic!("spec {spec}: a 4-billion-event list decoded"))
            .to_string();
        assert!(e.contains("System.Events"), "{e}");
        assert!(e.contains(&format!("metadata of spec {spec}")), "{e}");
        assert!(e.contains("another runtime, or the data is damaged"), "{e}");
        // One event fewer than claimed: the walk runs out of bytes too.
        assert!(events::decode(&m, &with_claimed_len(&good, 3)).is_err());
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Damaged events, and events of one runtime read with another's metadata, give an
    /// answer or an error, never a panic or an abort.
    #[test]
    fn damaged_or_foreign_events_never_crash_the_decoder(
        spec in proptest::sample::select(vec![393u32, 424, 459]),
        reader in proptest::sample::select(vec![393u32, 424, 459]),
        flips in proptest::collection::vec((0usize..4096, proptest::num::u8::ANY), 0..6),
        cut in 0usize..4096,
    ) {
        let (_, p) = meta(spec);
        let (m, _) = meta(reader);
        let mut bytes = encoded(&p, &[stake(true), stake(false), stake(true)]);
        for (at, byte) in flips {
            let n = bytes.len();
            bytes[at % n] = byte;
        }
        let cut = cut % (bytes.len() + 1);
        let _ = events::decode(&m, &bytes[..cut]);
        let _ = events::decode(&m, &bytes);
    }
}
