//! One chain that upgrades 393 -> 424 -> 459, read back with subxt (dynamic API, legacy
//! backend) and raw JSON-RPC: each block's events and storage decode with the metadata
//! served at that block, runtime version and metadata answer per `at`, the runtime
//! version subscription notifies at each upgrade, and a 459 `RootClaimed` has `tao`.

use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::Value as Json;
use subxt::backend::LegacyBackend;
use subxt::dynamic::{self, At, Value};
use subxt::rpcs::RpcClient;
use subxt::{OnlineClient, SubstrateConfig};
use vesting_devnet::{DevnetConfig, DevnetHandle, Pruning, Scenario, named_account, start};

type Client = OnlineClient<SubstrateConfig>;

/// `tiny` on 393, `set_code` to 424 in block 4 and to 459 in block 8; nina's root claim
/// in block 11 (459: paid in TAO on root).
fn scenario() -> Scenario {
    let tiny = vesting_devnet::scenario::BUILTIN
        .iter()
        .find(|(n, _)| *n == "tiny")
        .unwrap()
        .1;
    Scenario::from_toml(&format!(
        "runtime = \"393\"\n{tiny}\n\
         [[upgrades]]\nblock = 4\nruntime = \"424\"\n\
         [[upgrades]]\nblock = 8\nruntime = 459\n\
         [[actions]]\nblock = 11\naction = {{ kind = \"root_claim\", coldkey = \"nina\", hotkey = \"alice-v\", netuid = 1, alpha = 1000000000 }}\n"
    ))
    .unwrap()
}

async fn devnet() -> DevnetHandle {
    let mut cfg = DevnetConfig::new(scenario());
    cfg.pruning = Pruning::Archive;
    cfg.finality_depth = 0;
    start(cfg).await.unwrap()
}

async fn client(h: &DevnetHandle) -> Client {
    let rpc = RpcClient::from_insecure_url(h.ws_url()).await.unwrap();
    let backend = LegacyBackend::<SubstrateConfig>::builder().build(rpc);
    OnlineClient::from_backend(Arc::new(backend)).await.unwrap()
}

fn hash_at(h: &DevnetHandle, n: u64) -> String {
    let c = h.chain().read().unwrap();
    format!("0x{}", hex::encode(c.hash_at(n).unwrap()))
}

async fn event_names(api: &Client, n: u32) -> Vec<String> {
    let at = api.at_block(n).await.unwrap();
    let ev = at.events().fetch().await.unwrap();
    ev.iter()
        .map(|e| {
            let e = e.unwrap();
            format!("{}.{}", e.pallet_name(), e.event_name())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_chain_upgrades_393_424_459_and_answers_per_block() {
    let h = devnet().await;
    let ws = WsClientBuilder::default().build(h.ws_url()).await.unwrap();
    let mut versions = ws
        .subscribe::<Json, _>(
            "state_subscribeRuntimeVersion",
            rpc_params![],
            "state_unsubscribeRuntimeVersion",
        )
        .await
        .unwrap();
    let first = versions.next().await.unwrap().unwrap();
    assert_eq!(first["specVersion"], 393);
    h.advance(12).unwrap();
    // One notification per upgrade, at the set_code block.
    for want in [424, 459] {
        let v = tokio::time::timeout(Duration::from_secs(10), versions.next())
            .await
            .expect("a runtime version notification")
            .unwrap()
            .unwrap();
        assert_eq!(v["specVersion"], want);
    }

    // Runtime version, metadata and Core_version per `at`.
    for (n, spec) in [(2u64, 393u64), (4, 424), (6, 424), (8, 459), (10, 459)] {
        let at = hash_at(&h, n);
        let rv: Json = ws
            .request("state_getRuntimeVersion", rpc_params![at.clone()])
            .await
            .unwrap();
        assert_eq!(rv["specVersion"], spec, "block {n}");
        let md: String = ws
            .request("state_getMetadata", rpc_params![at.clone()])
            .await
            .unwrap();
        let c = h.chain().read().unwrap();
        let b = c.block(&c.hash_at(n).unwrap()).unwrap();
        assert_eq!(
            md,
            format!("0x{}", hex::encode(b.code.md.encoded(14).unwrap())),
            "block {n}"
        );
    }
    let versions_at = |n: u64| {
        let at = hash_at(&h, n);
        let ws = &ws;
        async move {
            let raw: String = ws
                .request(
                    "state_call",
                    rpc_params!["Metadata_metadata_at_version", "0x10000000", at],
                )
                .await
                .unwrap();
            raw
        }
    };
    assert_ne!(versions_at(2).await, versions_at(10).await);

    let api = client(&h).await;
    // 393: legacy layout (no AlphaV2, no LastEpochBlock); a genesis position is readable.
    let at2 = api.at_block(2u32).await.unwrap();
    let alpha_v2 =
        dynamic::storage::<([u8; 32], [u8; 32], u16), Value>("SubtensorModule", "AlphaV2");
    assert!(
        at2.storage()
            .fetch(
                alpha_v2.clone(),
                (named_account("alice-v"), named_account("nina"), 1)
            )
            .await
            .is_err(),
        "393 has no AlphaV2"
    );
    let keys = dynamic::storage::<(u16, u16), [u8; 32]>("SubtensorModule", "Keys");
    assert_eq!(
        at2.storage()
            .fetch(keys.clone(), (1, 0))
            .await
            .unwrap()
            .decode()
            .unwrap(),
        named_account("alice-v")
    );
    let names = event_names(&api, 2).await;
    assert!(
        names.contains(&"System.ExtrinsicSuccess".to_string()),
        "{names:?}"
    );
    // 424: AlphaV2 and LastEpochBlock exist; System.LastRuntimeUpgrade says 424.
    let at6 = api.at_block(6u32).await.unwrap();
    let leb = dynamic::storage::<(u16,), u64>("SubtensorModule", "LastEpochBlock");
    at6.storage().fetch(leb.clone(), (1,)).await.unwrap();
    let lru = dynamic::storage::<(), Value>("System", "LastRuntimeUpgrade");
    let v = at6
        .storage()
        .fetch(lru.clone(), ())
        .await
        .unwrap()
        .decode()
        .unwrap();
    assert!(v.to_string().contains("424"), "{v}");
    let names = event_names(&api, 6).await;
    assert!(
        names.contains(&"System.ExtrinsicSuccess".to_string()),
        "{names:?}"
    );
    // 459: SubnetEpochConsensus exists; the claim's RootClaimed has coldkey and tao.
    let at11 = api.at_block(11u32).await.unwrap();
    let v = at11
        .storage()
        .fetch(lru, ())
        .await
        .unwrap()
        .decode()
        .unwrap();
    assert!(v.to_string().contains("459"), "{v}");
    let ec = dynamic::storage::<(u16,), Value>("SubtensorModule", "SubnetEpochConsensus");
    let mode = at11
        .storage()
        .fetch(ec, (1,))
        .await
        .unwrap()
        .decode()
        .unwrap();
    assert!(mode.to_string().contains("Yuma"), "{mode}");
    let ev = at11.events().fetch().await.unwrap();
    let claimed: Vec<_> = ev
        .iter()
        .map(|e| e.unwrap())
        .filter(|e| e.event_name() == "RootClaimed")
        .collect();
    assert_eq!(claimed.len(), 1);
    let f = claimed[0].decode_fields_unchecked_as::<Value>().unwrap();
    assert!(f.at("coldkey").is_some(), "{f}");
    assert_eq!(
        f.at("tao").and_then(|t| t.as_u128()),
        Some(1_000_000_000),
        "{f}"
    );
    // The set_code blocks hold CodeUpdated; decode them with the parent's runtime, as a
    // node's own block (executed by the old runtime) must be.
    {
        let c = h.chain().read().unwrap();
        let b = c.block(&c.hash_at(8).unwrap()).unwrap();
        assert_eq!((b.runtime.spec, b.code.spec), (424, 459));
        let v = vesting_devnet::encode::decode(
            b.runtime.md.types(),
            b.runtime.md.storage("System", "Events").unwrap().value_type,
            &mut b.events_encoded(&b.runtime.md).unwrap(),
        )
        .unwrap();
        assert!(v.to_string().contains("CodeUpdated"));
    }
    h.stop().await;
}
