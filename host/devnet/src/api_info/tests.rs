//! Every API served here answers under each runtime's metadata (393, 424, 459) on a chain
//! past its first epoch, and its bytes decode as the metadata's return type, fully.

use codec::{Decode, Encode};

use crate::encode::decode;
use crate::model::{ChainState, named_account};
use crate::scenario::Scenario;

fn chain() -> ChainState {
    let (mut st, _) = Scenario::builtin("tiny")
        .unwrap()
        .build(12_000, None)
        .unwrap();
    for _ in 0..12 {
        st = st.apply_block(&[]).unwrap().state;
    }
    st
}

/// SCALE input for a method, by argument name.
fn input(md: &crate::metadata::ChainMetadata, method: &str) -> Vec<u8> {
    let info = md.runtime_api(method).unwrap();
    let mut out = vec![];
    for (name, _) in &info.inputs {
        match name.as_str() {
            "netuid" => 1u16.encode_to(&mut out),
            "uid" => 0u16.encode_to(&mut out),
            "mecid" | "subid" => 0u8.encode_to(&mut out),
            "tao" | "alpha" => 1_000_000_000u64.encode_to(&mut out),
            "delegate_account" => named_account("alice-v").encode_to(&mut out),
            "delegatee_account" => named_account("alice").encode_to(&mut out),
            "coldkey_accounts" => {
                vec![named_account("alice"), named_account("nina")].encode_to(&mut out)
            }
            other => panic!("{method}: no test input for {other}"),
        }
    }
    out
}

#[test]
fn every_served_api_encodes_with_the_metadata_type() {
    let mut st = chain();
    st.delegate_take.insert(named_account("alice-v"), 5_000);
    for spec in [393, 424, 459] {
        let md = crate::runtime::profile(spec).unwrap().md.clone();
        let mut answered = 0;
        for m in super::SERVED {
            let Some(info) = md.runtime_api(m) else {
                continue;
            };
            let bytes = crate::runtime_api::call(&md, &st, m, &input(&md, m))
                .unwrap_or_else(|e| panic!("{spec} {m}: {e}"));
            let mut rest = &bytes[..];
            decode(md.types(), info.output, &mut rest)
                .unwrap_or_else(|e| panic!("{spec} {m}: {e}"));
            assert!(rest.is_empty(), "{spec} {m}: {} bytes left", rest.len());
            answered += 1;
        }
        assert!(answered >= 10, "{spec}: {answered}");
    }
}

#[test]
fn account_nonce_is_the_accounts_system_nonce() {
    let mut st = chain();
    let who = named_account("alice-v");
    st.nonces.insert(who, 7);
    for spec in [393, 424, 459] {
        let md = crate::runtime::profile(spec).unwrap().md.clone();
        let nonce = |a: &crate::model::AccountId| {
            let bytes =
                crate::runtime_api::call(&md, &st, "AccountNonceApi_account_nonce", &a.encode())
                    .unwrap_or_else(|e| panic!("{spec}: {e}"));
            u32::decode(&mut &bytes[..]).unwrap()
        };
        assert_eq!(nonce(&who), 7, "{spec}");
        assert_eq!(nonce(&[9u8; 32]), 0, "{spec}: an unknown account");
    }
}

#[test]
fn neurons_and_metagraph_carry_the_model() {
    let st = chain();
    let md = crate::runtime::profile(424).unwrap().md.clone();
    let call = |m: &str| {
        let info = md.runtime_api(m).unwrap();
        let bytes = crate::runtime_api::call(&md, &st, m, &input(&md, m)).unwrap();
        decode(md.types(), info.output, &mut &bytes[..])
            .unwrap()
            .remove_context()
    };
    let lite = call("NeuronInfoRuntimeApi_get_neurons_lite");
    let s = format!("{lite:?}");
    assert_eq!(s.matches("validator_permit").count(), 4, "{s}");
    let mg = format!("{:?}", call("SubnetInfoRuntimeApi_get_metagraph"));
    assert!(mg.contains("Some"), "{mg}");
    let hp = call("SubnetInfoRuntimeApi_get_subnet_hyperparams_v3");
    assert!(format!("{hp:?}").contains("U16"), "{hp:?}");
    // Unknown subnet: None, not an error.
    let none = crate::runtime_api::call(
        &md,
        &st,
        "SubnetInfoRuntimeApi_get_metagraph",
        &9u16.encode(),
    )
    .unwrap();
    assert_eq!(none, vec![0]);
}
