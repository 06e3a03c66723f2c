//! A subxt client (dynamic API, legacy backend, decoding against the metadata the devnet
//! serves) reads storage, events, runtime APIs and subscriptions back from a running
//! devnet and checks them against the in-process model.

use std::sync::Arc;
use std::time::Duration;

use subxt::backend::LegacyBackend;
use subxt::dynamic::{self, At, Value};
use subxt::rpcs::RpcClient;
use subxt::{OnlineClient, SubstrateConfig};
use vesting_devnet::model::Share;
use vesting_devnet::{
    DevnetConfig, DevnetHandle, Pruning, Scenario, TruthKind, named_account, start,
};

type Client = OnlineClient<SubstrateConfig>;

async fn devnet(pruning: Pruning) -> DevnetHandle {
    let mut cfg = DevnetConfig::new(Scenario::builtin("attribution").unwrap());
    cfg.pruning = pruning;
    start(cfg).await.unwrap()
}

async fn client(h: &DevnetHandle) -> Client {
    let rpc = RpcClient::from_insecure_url(h.ws_url()).await.unwrap();
    let backend = LegacyBackend::<SubstrateConfig>::builder().build(rpc);
    OnlineClient::from_backend(Arc::new(backend)).await.unwrap()
}

/// The first number inside a value (through newtypes, compacts and Option).
fn number<T>(v: &Value<T>) -> u128 {
    fn find<T>(v: &Value<T>) -> Option<u128> {
        if let Some(n) = v.as_u128() {
            return Some(n);
        }
        match &v.value {
            scale_value::ValueDef::Composite(c) => c.values().find_map(find),
            scale_value::ValueDef::Variant(var) => var.values.values().find_map(find),
            _ => None,
        }
    }
    find(v).unwrap_or_else(|| panic!("no number in {v}"))
}

fn i_number<T>(v: &Value<T>) -> i128 {
    v.as_i128()
        .or_else(|| v.as_u128().map(|u| u as i128))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_events_and_runtime_apis_match_the_model() {
    let h = devnet(Pruning::Archive).await;
    h.advance(40).unwrap();
    let api = client(&h).await;
    let (alice_v, bob, erin) = (
        named_account("alice-v"),
        named_account("bob"),
        named_account("erin"),
    );

    // Alpha -> AlphaV2 migration: bob's legacy entry is read at 14, gone at 16.
    let alpha = dynamic::storage::<([u8; 32], [u8; 32], u16), Value>("SubtensorModule", "Alpha");
    let alpha_v2 =
        dynamic::storage::<([u8; 32], [u8; 32], u16), Value>("SubtensorModule", "AlphaV2");
    let at14 = api.at_block(14u32).await.unwrap();
    let v = at14
        .storage()
        .try_fetch(alpha.clone(), (alice_v, bob, 1))
        .await
        .unwrap()
        .expect("legacy Alpha at 14");
    let bits = number(&v.decode().unwrap());
    {
        let c = h.chain().read().unwrap();
        let st = c.state_at(&c.hash_at(14).unwrap()).unwrap();
        assert_eq!(
            st.pools[&(alice_v, 1)].shares.get(&bob),
            Some(&Share::Legacy(bits))
        );
    }
    let at16 = api.at_block(16u32).await.unwrap();
    // Reading only Alpha gives zero (the default) for a migrated position.
    let migrated = at16
        .storage()
        .fetch(alpha.clone(), (alice_v, bob, 1))
        .await
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(number(&migrated), 0);
    let v2 = at16
        .storage()
        .fetch(alpha_v2.clone(), (alice_v, bob, 1))
        .await
        .unwrap()
        .decode()
        .unwrap();
    let erin_legacy = at16
        .storage()
        .fetch(alpha.clone(), (alice_v, erin, 1))
        .await
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(
        number(&erin_legacy),
        (30u128 * 1_000_000_000) << 64,
        "erin never wrote: her Alpha entry stays"
    );
    {
        let c = h.chain().read().unwrap();
        let st = c.state_at(&c.hash_at(16).unwrap()).unwrap();
        let Some(Share::V2(sf)) = st.pools[&(alice_v, 1)].shares.get(&bob).copied() else {
            panic!()
        };
        assert_eq!(number(v2.at("mantissa").unwrap()), sf.mantissa);
        assert_eq!(i_number(v2.at("exponent").unwrap()), sf.exponent as i128);
    }

    // TotalHotkeyAlpha, Keys/Uids (uid 2 re-registered at 33), LastEpochBlock.
    let head = api.at_current_block().await.unwrap();
    let tha = dynamic::storage::<([u8; 32], u16), u64>("SubtensorModule", "TotalHotkeyAlpha");
    let total = head
        .storage()
        .fetch(tha, (alice_v, 1))
        .await
        .unwrap()
        .decode()
        .unwrap();
    let keys = dynamic::storage::<(u16, u16), [u8; 32]>("SubtensorModule", "Keys");
    let uids = dynamic::storage::<(u16, [u8; 32]), u16>("SubtensorModule", "Uids");
    assert_eq!(
        head.storage()
            .fetch(keys.clone(), (1, 2))
            .await
            .unwrap()
            .decode()
            .unwrap(),
        named_account("dave-new")
    );
    assert_eq!(
        head.storage()
            .fetch(uids.clone(), (1, named_account("dave-new")))
            .await
            .unwrap()
            .decode()
            .unwrap(),
        2
    );
    assert!(
        head.storage()
            .try_fetch(uids, (1, named_account("carol-m")))
            .await
            .unwrap()
            .is_none()
    );
    let at30 = api.at_block(30u32).await.unwrap();
    assert_eq!(
        at30.storage()
            .fetch(keys, (1, 2))
            .await
            .unwrap()
            .decode()
            .unwrap(),
        named_account("carol-m")
    );
    let leb = dynamic::storage::<(u16,), u64>("SubtensorModule", "LastEpochBlock");
    let at20 = api.at_block(20u32).await.unwrap();
    assert_eq!(
        at20.storage()
            .fetch(leb.clone(), (1,))
            .await
            .unwrap()
            .decode()
            .unwrap(),
        19
    );
    assert_eq!(
        at20.storage()
            .fetch(leb.clone(), (2,))
            .await
            .unwrap()
            .decode()
            .unwrap(),
        20
    );
    {
        let c = h.chain().read().unwrap();
        // subxt's "current" block is the finalized one.
        let st = c.state_at(&head.block_hash().0).unwrap();
        assert_eq!(head.block_number(), c.finalized_number());
        assert_eq!(total, st.pools[&(alice_v, 1)].total_alpha);
    }

    // Iterating AlphaV2 under one hotkey gives the model's V2 positions.
    let mut it = head.storage().iter(alpha_v2, (alice_v,)).await.unwrap();
    let mut n = 0;
    while let Some(e) = it.next().await {
        e.unwrap();
        n += 1;
    }
    {
        let c = h.chain().read().unwrap();
        let st = c.state_at(&head.block_hash().0).unwrap();
        let model = st
            .pools
            .iter()
            .filter(|((hk, _), _)| *hk == alice_v)
            .flat_map(|(_, p)| {
                p.shares
                    .values()
                    .filter(|s| matches!(s, Share::V2(_)))
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .count();
        assert_eq!(n, model);
        assert!(n >= 2);
    }

    // Events: the deferral at 19, the skip at 29, and StakeAdded at 15 matching ground truth.
    let at19 = api.at_block(19u32).await.unwrap();
    let ev = at19.events().fetch().await.unwrap();
    let deferred: Vec<_> = ev
        .iter()
        .map(|e| e.unwrap())
        .filter(|e| e.event_name() == "EpochDeferred")
        .collect();
    assert_eq!(deferred.len(), 1);
    let f = deferred[0].decode_fields_unchecked_as::<Value>().unwrap();
    assert_eq!(number(f.at("netuid").unwrap()), 2);
    assert_eq!(number(f.at("to_block").unwrap()), 20);
    let at29 = api.at_block(29u32).await.unwrap();
    assert!(
        at29.events()
            .fetch()
            .await
            .unwrap()
            .iter()
            .any(|e| e.unwrap().event_name() == "EpochSkipped")
    );
    let at15 = api.at_block(15u32).await.unwrap();
    let ev = at15.events().fetch().await.unwrap();
    let added: Vec<_> = ev
        .iter()
        .map(|e| e.unwrap())
        .filter(|e| e.event_name() == "StakeAdded")
        .collect();
    assert_eq!(added.len(), 1);
    let f = added[0].decode_fields_unchecked_as::<Value>().unwrap();
    let ev_alpha = number(f.at(3).unwrap()) as i64;
    {
        let c = h.chain().read().unwrap();
        let gt: Vec<_> = c
            .ground_truth(15, 15)
            .into_iter()
            .filter(|e| e.kind == TruthKind::ManualIn)
            .collect();
        assert_eq!(gt.len(), 1);
        assert_eq!(gt[0].amount, ev_alpha);
        assert_eq!(gt[0].coldkey, bob);
    }
    // Extrinsics decode against the metadata: the timestamp inherent then add_stake.
    let exts = at15.extrinsics().fetch().await.unwrap();
    let names: Vec<String> = exts
        .iter()
        .map(|x| x.unwrap().call_name().to_string())
        .collect();
    assert_eq!(names, vec!["set".to_string(), "add_stake".to_string()]);

    // Runtime APIs.
    let call = dynamic::runtime_api_call::<_, Value>(
        "StakeInfoRuntimeApi",
        "get_stake_info_for_hotkey_coldkey_netuid",
        (alice_v, bob, 1u16),
    );
    let info = head.runtime_apis().call(call).await.unwrap();
    let stake = number(info.at(0).unwrap().at("stake").unwrap());
    let next = dynamic::runtime_api_call::<_, Option<u64>>(
        "SubnetInfoRuntimeApi",
        "get_next_epoch_start_block",
        (1u16,),
    );
    let next = head.runtime_apis().call(next).await.unwrap();
    let by_coldkey = dynamic::runtime_api_call::<_, Value>(
        "StakeInfoRuntimeApi",
        "get_stake_info_for_coldkey",
        (bob,),
    );
    let list = head.runtime_apis().call(by_coldkey).await.unwrap();
    {
        let c = h.chain().read().unwrap();
        let st = c.state_at(&head.block_hash().0).unwrap();
        assert_eq!(stake as u64, st.stake(&alice_v, &bob, 1));
        assert_eq!(next, st.next_epoch_start_block(1));
        let n = match &list.value {
            scale_value::ValueDef::Composite(c) => c.len(),
            _ => panic!("not a list"),
        };
        assert_eq!(n, st.stakes_of(&bob).len());
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_see_new_finalized_and_reorged_blocks() {
    let h = devnet(Pruning::Archive).await;
    h.advance(40).unwrap();
    let api = client(&h).await;
    let mut best = api.stream_best_blocks().await.unwrap();
    let mut fin = api.stream_blocks().await.unwrap();
    let first = best.next().await.unwrap().unwrap().number();
    assert_eq!(first, 40);
    h.advance(4).unwrap(); // 41..44
    let mut seen = vec![];
    while seen.last() != Some(&44) {
        let b = tokio::time::timeout(Duration::from_secs(10), best.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push(b.number());
    }
    let abandoned_44 = h.chain().read().unwrap().hash_at(44).unwrap();
    h.advance(1).unwrap(); // 45, then the scenario's reorg replaces 44-45 and adds 46
    let mut after: Vec<(u64, subxt::utils::H256)> = vec![];
    while after.last().map(|x| x.0) != Some(46) {
        let b = tokio::time::timeout(Duration::from_secs(10), best.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        after.push((b.number(), b.hash()));
    }
    // The new branch restarts at 44: a client reading best blocks sees the reorg.
    assert!(
        after
            .iter()
            .any(|(n, hsh)| *n == 44 && hsh.0 != abandoned_44),
        "{after:?}"
    );
    // Finalized blocks arrive in order and never include the abandoned block.
    let mut last = 0;
    while last < 43 {
        let b = tokio::time::timeout(Duration::from_secs(10), fin.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(b.number() > last || last == 0);
        assert_ne!(b.hash().0, abandoned_44);
        last = b.number();
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_rpc_shapes_and_errors() {
    use jsonrpsee::core::client::ClientT;
    use jsonrpsee::rpc_params;
    let h = devnet(Pruning::Last(8)).await;
    h.advance(30).unwrap();
    let ws = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(h.ws_url())
        .await
        .unwrap();
    let header: serde_json::Value = ws.request("chain_getHeader", rpc_params![]).await.unwrap();
    assert_eq!(header["number"], "0x1e");
    let old: String = ws
        .request("chain_getBlockHash", rpc_params![3])
        .await
        .unwrap();
    let key = format!(
        "0x{}",
        hex::encode(vesting_devnet::hashing::twox_128(b"Timestamp"))
            + &hex::encode(vesting_devnet::hashing::twox_128(b"Now"))
    );
    let e = ws
        .request::<serde_json::Value, _>("state_getStorage", rpc_params![key.clone(), old])
        .await
        .unwrap_err();
    let s = e.to_string();
    assert!(
        s.contains("4003") && s.contains("State already discarded"),
        "{s}"
    );
    let e = ws
        .request::<serde_json::Value, _>("no_such_method", rpc_params![])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("-32601") || e.contains("MethodNotFound") || e.contains("not found"),
        "{e}"
    );
    let e = ws
        .request::<serde_json::Value, _>("state_getStorage", rpc_params![42])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("-32602") || e.contains("InvalidParams"), "{e}");
    let vers: String = ws
        .request(
            "state_call",
            rpc_params!["Metadata_metadata_versions", "0x"],
        )
        .await
        .unwrap();
    assert_eq!(vers, "0x0c0e0000000f00000010000000");
    let md: String = ws
        .request("state_getMetadata", rpc_params![])
        .await
        .unwrap();
    assert_eq!(&md[..12], "0x6d6574610e", "V14 from state_getMetadata");
    // HTTP on the same port.
    let http = jsonrpsee::http_client::HttpClientBuilder::default()
        .build(h.http_url())
        .unwrap();
    let chain: String = http.request("system_chain", rpc_params![]).await.unwrap();
    assert_eq!(chain, "Bittensor");
    let now: Option<String> = http
        .request("state_getStorage", rpc_params![key])
        .await
        .unwrap();
    assert!(now.is_some());
    // Control: a stake through RPC lands in a new block with its ground truth.
    let r: serde_json::Value = http
        .request(
            "devnet_addStake",
            jsonrpsee::rpc_params![serde_json::json!({"coldkey": "erin", "hotkey": "alice-v", "netuid": 1, "tao": 1_000_000_000u64})],
        )
        .await
        .unwrap();
    assert_eq!(r["head"], 31);
    let gt: serde_json::Value = http
        .request(
            "devnet_groundTruth",
            rpc_params![serde_json::json!({"from": 31, "to": 31, "kind": "manual_in"})],
        )
        .await
        .unwrap();
    assert_eq!(gt["entries"][0]["amount"], 1_000_000_000);
    let bad = http
        .request::<serde_json::Value, _>(
            "devnet_addStake",
            rpc_params![
                serde_json::json!({"coldkey": "erin", "hotkey": "alice-v", "netuid": 9, "tao": 1})
            ],
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(bad.contains("subnet 9 does not exist"), "{bad}");
    h.stop().await;
}
