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
