//! Signature checks over payloads signed by the key module, nonces, fees and refusals.

use super::*;
use crate::chain::Chain;
use crate::extrinsic::action_call;
use crate::model::ChainEvent;
use crate::server::{DevnetConfig, build_chain};
use crate::tx::keys::{dev_account, dev_keypair};

fn chain() -> Chain {
    let mut cfg = DevnetConfig::new(crate::Scenario::builtin("tiny").unwrap());
    cfg.block_time_ms = 0;
    let mut c = build_chain(&cfg).unwrap();
    c.produce(2).unwrap();
    c
}

/// `add_stake` of `tao` rao from `who` to the first subnet's owner hotkey.
fn add_stake(c: &Chain, who: &str, tao: u64) -> (Vec<u8>, Action) {
    let st = c.head_state();
    let (netuid, s) = st.subnets.iter().find(|(n, _)| **n != 0).unwrap();
    let a = Action::AddStake {
        coldkey: dev_account(who),
        hotkey: s.owner_hotkey,
        netuid: *netuid,
        tao,
    };
    let md = c.md();
    let call = action_call(&md, &a).unwrap();
    (
        crate::encode::encode(md.types(), md.call_enum_type(), &call).unwrap(),
        a,
    )
}

fn signed(c: &Chain, who: &str, nonce: u32, call: &[u8]) -> Vec<u8> {
    sign_extrinsic(&c.md(), c.genesis_hash(), &dev_keypair(who), nonce, call).unwrap()
}

#[test]
fn a_signed_add_stake_is_pooled_included_and_charged() {
    let mut c = chain();
    let alice = dev_account("Alice");
    let before = c.head_state().balances.get(&alice).copied().unwrap();
    let (call, action) = add_stake(&c, "Alice", 1_000_000_000);
    let xt = signed(&c, "Alice", 0, &call);
    let hash = c.submit_extrinsic(&xt).unwrap();
    assert_eq!(hash, blake2_256(&xt));
    assert_eq!(c.pool().len(), 1);
    assert_eq!(c.next_index(&alice), 1);
    // The same bytes again; another transaction with the same nonce.
    assert_eq!(c.submit_extrinsic(&xt), Err(TxError::AlreadyImported(hash)));
    let (call2, _) = add_stake(&c, "Alice", 2_000_000_000);
    assert_eq!(
        c.submit_extrinsic(&signed(&c, "Alice", 0, &call2)),
        Err(TxError::TooLowPriority)
    );
    let upd = c.produce(1).unwrap();
    let b = &upd.best[0];
    assert!(c.pool().is_empty());
    let idx = b
        .extrinsics
        .iter()
        .position(|x| *x == xt)
        .expect("in the body") as u32;
    let ev: Vec<&ChainEvent> = b
        .events
        .iter()
        .filter(|e| e.phase == crate::model::Phase::ApplyExtrinsic(idx))
        .map(|e| &e.event)
        .collect();
    assert!(matches!(ev[0], ChainEvent::Withdraw { who, amount: FEE_RAO } if *who == alice));
    assert!(matches!(ev[1], ChainEvent::StakeAdded { coldkey, .. } if *coldkey == alice));
    assert!(matches!(
        ev[ev.len() - 2],
        ChainEvent::TransactionFeePaid { who, actual_fee: FEE_RAO, tip: 0 } if *who == alice
    ));
    assert!(matches!(
        ev[ev.len() - 1],
        ChainEvent::ExtrinsicSuccess { .. }
    ));
    let st = c.head_state();
    assert_eq!(st.nonce(&alice), 1);
    assert_eq!(
        st.balances.get(&alice).copied().unwrap(),
        before - FEE_RAO - 1_000_000_000
    );
    let Action::AddStake { hotkey, netuid, .. } = action else {
        unreachable!()
    };
    assert!(st.stake(&hotkey, &alice, netuid) > 0);
    // Replaying it: the nonce is stale.
    assert_eq!(c.submit_extrinsic(&xt), Err(TxError::Invalid(STALE.into())));
    // A nonce past the next one.
    assert_eq!(
        c.submit_extrinsic(&signed(&c, "Alice", 5, &call)),
        Err(TxError::Invalid(FUTURE.into()))
    );
}

#[test]
fn bad_signatures_unknown_calls_and_formats_are_refused() {
    let mut c = chain();
    let (call, _) = add_stake(&c, "Bob", 1_000_000_000);
    let mut xt = signed(&c, "Bob", 0, &call);
    // Flip a bit of the signature (after the length, 0x84, address 0x00 + 32, variant).
    xt[2 + 1 + 33 + 1 + 5] ^= 1;
    assert_eq!(
        c.submit_extrinsic(&xt),
        Err(TxError::Invalid(BAD_PROOF.into()))
    );
    // Signed by Alice's key but claiming Bob.
    let xt = sign_extrinsic_with(
        &c.md(),
        c.genesis_hash(),
        dev_account("Bob"),
        0,
        &call,
        |p| ("Sr25519", keys::sign(&dev_keypair("Alice"), p)),
    )
    .unwrap();
    assert_eq!(
        c.submit_extrinsic(&xt),
        Err(TxError::Invalid(BAD_PROOF.into()))
    );
    // Signed for another genesis.
    let xt = sign_extrinsic(&c.md(), [7; 32], &dev_keypair("Bob"), 0, &call).unwrap();
    assert_eq!(
        c.submit_extrinsic(&xt),
        Err(TxError::Invalid(BAD_PROOF.into()))
    );
    // A real call the model does not know: refused by name.
    let md = c.md();
    let remark = Value::unnamed_variant(
        "System",
        [Value::named_variant(
            "remark",
            [("remark", Value::from_bytes(b"hi"))],
        )],
    );
    let rc = encode(md.types(), md.call_enum_type(), &remark).unwrap();
    let err = c.submit_extrinsic(&signed(&c, "Bob", 0, &rc)).unwrap_err();
    let (code, msg, data) = err.rpc_parts();
    assert_eq!((code, msg.as_str()), (1010, "Invalid Transaction"));
    assert!(data.unwrap().contains("System::remark"), "{err:?}");
    // An unknown pallet index: the call does not decode.
    let mut bad = call.clone();
    bad[0] = 0xfe;
    let err = c.submit_extrinsic(&signed(&c, "Bob", 0, &bad)).unwrap_err();
    assert_eq!(err.rpc_parts().0, 1001, "{err:?}");
    // A bare (unsigned) extrinsic, and a wrong length prefix.
    let mut bare = Compact((call.len() + 1) as u32).encode();
    bare.push(0x04);
    bare.extend(&call);
    assert_eq!(c.submit_extrinsic(&bare).unwrap_err().rpc_parts().0, 1011);
    assert_eq!(
        c.submit_extrinsic(&[0x08, 0x84]).unwrap_err().rpc_parts().0,
        1001
    );
    // An account with no funds cannot pay.
    let kp = keys::keypair("//NoFunds").unwrap();
    let (call, _) = add_stake(&c, "NoFunds", 1);
    let xt = sign_extrinsic(&c.md(), c.genesis_hash(), &kp, 0, &call).unwrap();
    assert_eq!(
        c.submit_extrinsic(&xt),
        Err(TxError::Invalid(PAYMENT.into()))
    );
}

#[test]
fn ed25519_signatures_verify() {
    let mut c = chain();
    let sk = ed25519_zebra::SigningKey::from([9u8; 32]);
    let vk: [u8; 32] = ed25519_zebra::VerificationKey::from(&sk).into();
    // Fund the ed25519 account through a transfer-free route: it pays nothing if the
    // call is refused, so check the signature with an unfunded account (Payment, not
    // BadProof, means the signature passed).
    let (call, _) = {
        let st = c.head_state();
        let (netuid, s) = st.subnets.iter().find(|(n, _)| **n != 0).unwrap();
        let a = Action::AddStake {
            coldkey: vk,
            hotkey: s.owner_hotkey,
            netuid: *netuid,
            tao: 1,
        };
        let md = c.md();
        let v = action_call(&md, &a).unwrap();
        (encode(md.types(), md.call_enum_type(), &v).unwrap(), a)
    };
    let xt = sign_extrinsic_with(&c.md(), c.genesis_hash(), vk, 0, &call, |p| {
        ("Ed25519", sk.sign(p).into())
    })
    .unwrap();
    assert_eq!(
        c.submit_extrinsic(&xt),
        Err(TxError::Invalid(PAYMENT.into()))
    );
    let xt = sign_extrinsic_with(&c.md(), c.genesis_hash(), vk, 0, &call, |p| {
        let mut s: [u8; 64] = sk.sign(p).into();
        s[0] ^= 1;
        ("Ed25519", s)
    })
    .unwrap();
    assert_eq!(
        c.submit_extrinsic(&xt),
        Err(TxError::Invalid(BAD_PROOF.into()))
    );
}

#[test]
fn eras_decode_and_place_their_birth() {
    assert_eq!(era_birth(&[0], 100), Ok(None));
    // Period 64, phase 40 (polkadot.js `{ current: 40, period: 64 }`): 0x8502.
    let e = 5u16 | (40 << 4);
    assert_eq!(era_birth(&e.to_le_bytes(), 41), Ok(Some(40)));
    assert_eq!(era_birth(&e.to_le_bytes(), 103), Ok(Some(40)));
    assert_eq!(era_birth(&e.to_le_bytes(), 104), Ok(Some(104)));
    assert!(era_birth(&[1, 2, 3], 1).is_err());
    // A payload over 256 bytes is signed by its hash.
    assert_eq!(signing_payload(&[1; 300], &[], &[]).len(), 32);
    assert_eq!(signing_payload(&[1; 200], &[2], &[3]).len(), 202);
}

/// A subnet (tempo 10) with a scenario validator `val` and miners `m1..m3` (uids 0..3,
/// equal configured incentive); `//Alice` registers her own hotkey at block 1 (uid 4) and
/// stakes 500 TAO to it, so the epoch at block 10 gives her a validator permit.
pub(crate) fn weights_scenario() -> String {
    let alice = format!("0x{}", hex::encode(dev_account("Alice")));
    format!(
        r#"
name = "weights"
description = "a dev-account validator sets weights"
seed = 1
finality_depth = 2

[[subnets]]
netuid = 1
tempo = 10
owner = "owner"
owner_hotkey = "owner-hot"
emission_per_block = 1_000_000_000

[[coldkeys]]
name = "vals"
balance_tao = 1000
hotkeys = ["val"]

[[coldkeys]]
name = "miners"
balance_tao = 10
hotkeys = ["m1", "m2", "m3"]

[[neurons]]
netuid = 1
hotkey = "val"
coldkey = "vals"
dividends = 1
self_stake = 100

[[neurons]]
netuid = 1
hotkey = "m1"
coldkey = "miners"
incentive = 1

[[neurons]]
netuid = 1
hotkey = "m2"
coldkey = "miners"
incentive = 1

[[neurons]]
netuid = 1
hotkey = "m3"
coldkey = "miners"
incentive = 1

[[actions]]
block = 1
action = {{ kind = "register", coldkey = "{alice}", hotkey = "{alice}", netuid = 1 }}

[[actions]]
block = 1
action = {{ kind = "add_stake", coldkey = "{alice}", hotkey = "{alice}", netuid = 1, tao = 500_000_000_000 }}
"#
    )
}

pub(crate) fn weights_chain(blocks: u64) -> Chain {
    let mut cfg = DevnetConfig::new(crate::Scenario::from_toml(&weights_scenario()).unwrap());
    cfg.block_time_ms = 0;
    let mut c = build_chain(&cfg).unwrap();
    c.produce(blocks).unwrap();
    c
}

/// `set_weights` signed by `who` (its hotkey).
pub(crate) fn set_weights_xt(c: &Chain, who: &str, dests: &[u16], weights: &[u16]) -> Vec<u8> {
    let a = Action::SetWeights {
        hotkey: dev_account(who),
        netuid: 1,
        dests: dests.to_vec(),
        weights: weights.to_vec(),
        version_key: 0,
    };
    let md = c.md();
    let call = encode(
        md.types(),
        md.call_enum_type(),
        &action_call(&md, &a).unwrap(),
    )
    .unwrap();
    let nonce = c.next_index(&dev_account(who));
    signed(c, who, nonce, &call)
}

fn refusal(c: &mut Chain, who: &str, dests: &[u16], weights: &[u16]) -> String {
    let xt = set_weights_xt(c, who, dests, weights);
    let e = c.submit_extrinsic(&xt).unwrap_err();
    let (code, _, data) = e.rpc_parts();
    assert_eq!(code, 1010, "{e:?}");
    data.unwrap()
}

#[test]
fn set_weights_is_signed_by_the_hotkey_checked_and_stored() {
    // Block 5: registered at 1, no epoch yet: no permit (non-self weights refused).
    let mut c = weights_chain(5);
    let alice = dev_account("Alice");
    let st = c.head_state();
    assert_eq!(st.subnets[&1].uids.get(&alice), Some(&4));
    assert_eq!(st.last_update(1, 4), 1);
    let e = refusal(&mut c, "Alice", &[1, 2], &[1, 1]);
    assert!(e.contains("SubtensorModule::SettingWeightsTooFast"), "{e}");
    // Bob has no uid.
    let e = refusal(&mut c, "Bob", &[1], &[1]);
    assert!(
        e.contains("SubtensorModule::HotKeyNotRegisteredInSubNet"),
        "{e}"
    );
    let e = refusal(&mut c, "Alice", &[1, 2], &[1]);
    assert!(e.contains("SubtensorModule::WeightVecNotEqualSize"), "{e}");
    // Past the rate limit (LastUpdate 1 + 100) and an epoch: Alice holds a permit.
    c.produce(100).unwrap();
    let st = c.head_state();
    assert!(
        st.validator_permit(1, 4),
        "the epoch gives Alice's stake a permit"
    );
    let e = refusal(&mut c, "Alice", &[1, 1], &[1, 2]);
    assert!(e.contains("SubtensorModule::DuplicateUids"), "{e}");
    let e = refusal(&mut c, "Alice", &[1, 9], &[1, 2]);
    assert!(
        e.contains("SubtensorModule::UidVecContainInvalidOne"),
        "{e}"
    );
    let e = refusal(&mut c, "Alice", &[0, 1, 2, 3, 4, 4], &[1; 6]);
    assert!(
        e.contains("SubtensorModule::UidsLengthExceedUidsInSubNet"),
        "{e}"
    );
    let nonce = c.head_state().nonce(&alice);
    let xt = set_weights_xt(&c, "Alice", &[1, 3], &[1, 4]);
    c.submit_extrinsic(&xt).unwrap();
    let upd = c.produce(1).unwrap();
    let b = &upd.best[0];
    let idx = b.extrinsics.iter().position(|x| *x == xt).unwrap() as u32;
    let ev: Vec<&ChainEvent> = b
        .events
        .iter()
        .filter(|e| e.phase == crate::model::Phase::ApplyExtrinsic(idx))
        .map(|e| &e.event)
        .collect();
    assert!(
        ev.contains(&&ChainEvent::WeightsSet { netuid: 1, uid: 4 }),
        "{ev:?}"
    );
    let st = c.head_state();
    assert_eq!(st.weights_of(1, 4), vec![(1, 16_384), (3, 65_535)]);
    assert_eq!(st.last_update(1, 4), b.number);
    // The hotkey paid the fee and used its nonce.
    assert_eq!(st.nonce(&alice), nonce + 1);
    // Commit-reveal is off: `commit_weights` gets the runtime's error.
    let md = c.md();
    let commit = Value::unnamed_variant(
        "SubtensorModule",
        [Value::named_variant(
            "commit_weights",
            [
                ("netuid", Value::u128(1)),
                ("commit_hash", Value::from_bytes([7u8; 32])),
            ],
        )],
    );
    let cc = encode(md.types(), md.call_enum_type(), &commit).unwrap();
    let xt = signed(&c, "Alice", c.next_index(&alice), &cc);
    let e = c.submit_extrinsic(&xt).unwrap_err();
    assert!(format!("{e:?}").contains("CommitRevealDisabled"), "{e:?}");
    // Again at once: too fast.
    let e = refusal(&mut c, "Alice", &[1], &[1]);
    assert!(e.contains("SubtensorModule::SettingWeightsTooFast"), "{e}");
}

#[test]
fn a_neuron_without_a_permit_may_only_weigh_itself() {
    // Bob registers at block 106 (after Alice's permit epochs), with no stake: by block
    // 216 the rate limit passed, and no epoch gave him a permit.
    let mut c = weights_chain(105);
    let md = c.md();
    let reg = Action::Register {
        coldkey: dev_account("Bob"),
        hotkey: dev_account("Bob"),
        netuid: 1,
        uid: None,
    };
    let call = encode(
        md.types(),
        md.call_enum_type(),
        &action_call(&md, &reg).unwrap(),
    )
    .unwrap();
    c.submit_extrinsic(&signed(&c, "Bob", 0, &call)).unwrap();
    c.produce(111).unwrap();
    let st = c.head_state();
    let bob = *st.subnets[&1].uids.get(&dev_account("Bob")).unwrap();
    assert!(!st.validator_permit(1, bob));
    let e = refusal(&mut c, "Bob", &[0, 1], &[1, 1]);
    assert!(
        e.contains("SubtensorModule::NeuronNoValidatorPermit"),
        "{e}"
    );
    // A self weight needs no permit.
    let xt = set_weights_xt(&c, "Bob", &[bob], &[7]);
    c.submit_extrinsic(&xt).unwrap();
    c.produce(1).unwrap();
    assert_eq!(c.head_state().weights_of(1, bob), vec![(bob, 65_535)]);
}

/// The miners' incentive in the epoch events of the blocks produced.
fn incentive_events(upd: &crate::chain::ChainUpdate) -> Vec<Vec<u64>> {
    upd.best
        .iter()
        .flat_map(|b| b.events.iter())
        .filter_map(|e| match &e.event {
            ChainEvent::IncentiveAlphaEmittedToMiners {
                netuid: 1,
                emissions,
            } => Some(emissions.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn weights_set_by_a_validator_drive_the_next_epoch() {
    let mut c = weights_chain(105);
    // Before: the scenario's equal scores (uids 1..3 paid alike).
    let before = incentive_events(&c.produce(10).unwrap());
    let last = before.last().unwrap();
    assert_eq!(last[1], last[3], "{last:?}");
    assert!(c.head_state().yuma.is_empty());
    let xt = set_weights_xt(&c, "Alice", &[1, 2, 3], &[1, 1, 8]);
    c.submit_extrinsic(&xt).unwrap();
    let after = incentive_events(&c.produce(10).unwrap());
    let last = after.last().unwrap();
    // Alice holds most of the permitted stake (500 vs 100): her weights are consensus.
    let total: u64 = last.iter().sum();
    assert!(last[3] * 10 >= total * 7, "{last:?}");
    assert!(last[3] > last[1] * 7, "{last:?}");
    let y = &c.head_state().yuma[&1];
    assert_eq!(y.incentive[0], 0, "validators earn no incentive");
    assert!(y.dividends[4] > 0, "Alice's bonds earn dividends: {y:?}");
    // What the SDK's metagraph reads (`neuron_scores`): Yuma's outputs and the weights set.
    let st = c.head_state();
    let rows = crate::neuron_scores::rows(&c.md(), &st, 1, 0).unwrap();
    let alice = &rows[4];
    assert_eq!(alice.weights, st.weights_of(1, 4));
    assert_eq!(
        alice.weights.last(),
        Some(&(3, u16::MAX)),
        "{:?}",
        alice.weights
    );
    assert!(alice.validator_permit);
    assert_eq!(alice.last_update, st.last_update(1, 4));
    assert!(
        alice.last_update > 105,
        "set at the block it was included in"
    );
    for r in &rows {
        let i = r.uid as usize;
        assert_eq!(
            (r.incentive, r.dividends, r.rank, r.consensus, r.trust),
            (
                y.incentive[i],
                y.dividends[i],
                y.rank[i],
                y.consensus[i],
                y.trust[i]
            ),
            "uid {i}"
        );
    }
    assert!(rows[3].incentive > rows[1].incentive * 7);
}

/// `set_mechanism_weights(netuid, mecid, dests, weights, version_key)` signed by `who`.
fn mechanism_weights_xt(c: &Chain, who: &str, mecid: u16, dests: &[u16], w: &[u16]) -> Vec<u8> {
    let u16s = |v: &[u16]| Value::unnamed_composite(v.iter().map(|x| Value::u128(u128::from(*x))));
    let call = Value::unnamed_variant(
        "SubtensorModule",
        [Value::named_variant(
            "set_mechanism_weights",
            [
                ("netuid", Value::u128(1)),
                ("mecid", Value::u128(u128::from(mecid))),
                ("dests", u16s(dests)),
                ("weights", u16s(w)),
                ("version_key", Value::u128(0)),
            ],
        )],
    );
    let md = c.md();
    let cc = encode(md.types(), md.call_enum_type(), &call).unwrap();
    signed(c, who, c.next_index(&dev_account(who)), &cc)
}

/// The bittensor SDK's `SetWeights` intent sends `set_mechanism_weights` with mechanism 0:
/// the same checks and storage as `set_weights`; a mechanism the subnet lacks is refused
/// with the runtime's `MechanismDoesNotExist`; commit forms get `CommitRevealDisabled`.
#[test]
fn set_mechanism_weights_of_mechanism_0_is_set_weights() {
    let mut c = weights_chain(105);
    let xt = mechanism_weights_xt(&c, "Alice", 1, &[1, 3], &[1, 4]);
    let e = c.submit_extrinsic(&xt).unwrap_err();
    assert!(
        format!("{e:?}").contains("SubtensorModule::MechanismDoesNotExist"),
        "{e:?}"
    );
    let xt = mechanism_weights_xt(&c, "Alice", 0, &[1, 1], &[1, 4]);
    let e = c.submit_extrinsic(&xt).unwrap_err();
    assert!(
        format!("{e:?}").contains("SubtensorModule::DuplicateUids"),
        "{e:?}"
    );
    let xt = mechanism_weights_xt(&c, "Alice", 0, &[1, 3], &[1, 4]);
    c.submit_extrinsic(&xt).unwrap();
    let upd = c.produce(1).unwrap();
    assert!(upd.best[0].extrinsics.contains(&xt));
    assert!(
        upd.best[0]
            .events
            .iter()
            .any(|e| e.event == ChainEvent::WeightsSet { netuid: 1, uid: 4 })
    );
    let st = c.head_state();
    assert_eq!(st.weights_of(1, 4), vec![(1, 16_384), (3, 65_535)]);
    assert_eq!(st.last_update(1, 4), upd.best[0].number);
    // Within the rate limit, as set_weights.
    let xt = mechanism_weights_xt(&c, "Alice", 0, &[1], &[1]);
    let e = c.submit_extrinsic(&xt).unwrap_err();
    assert!(format!("{e:?}").contains("SettingWeightsTooFast"), "{e:?}");
}
