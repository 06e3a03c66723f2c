//! The node surface over a real WebSocket: aliases, `state_call` hex forms, `--strict`,
//! storage subscriptions and `state_queryStorage` checked against `state_getStorage`,
//! nonces, fees and the empty pool.

use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use serde_json::{Value as Json, json};

use crate::encode::{KeyPart, storage_key};
use crate::{DevnetConfig, DevnetHandle, Scenario, named_account, start};

async fn devnet(strict: bool) -> (DevnetHandle, WsClient) {
    let mut cfg = DevnetConfig::new(Scenario::builtin("edges").unwrap());
    cfg.strict = strict;
    let h = start(cfg).await.unwrap();
    let c = WsClientBuilder::default().build(h.ws_url()).await.unwrap();
    (h, c)
}

fn key(h: &DevnetHandle, pallet: &str, entry: &str, parts: &[KeyPart]) -> String {
    let md = h.chain().read().unwrap().md();
    let info = md.storage(pallet, entry).unwrap();
    crate::chain::hex0x(&storage_key(md.types(), info, parts).unwrap())
}

fn tha(h: &DevnetHandle, hot: &str, net: u16) -> String {
    key(
        h,
        "SubtensorModule",
        "TotalHotkeyAlpha",
        &[
            KeyPart::Account(named_account(hot)),
            KeyPart::Num(net as u128),
        ],
    )
}

fn code(e: jsonrpsee::core::ClientError) -> (i32, String) {
    match e {
        jsonrpsee::core::ClientError::Call(o) => (o.code(), o.message().to_string()),
        e => panic!("not a call error: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_hex_forms_nonce_fees_and_pool() {
    let (h, c) = devnet(true).await;
    h.advance(3).unwrap();
    let head: String = c
        .request("chain_getBlockHash", rpc_params![])
        .await
        .unwrap();
    let alias: String = c.request("chain_getHead", rpc_params![]).await.unwrap();
    assert_eq!(head, alias);
    let methods: Json = c.request("rpc_methods", rpc_params![]).await.unwrap();
    for m in [
        "chain_getHead",
        "chain_subscribeNewHead",
        "account_nextIndex",
    ] {
        assert!(methods["methods"].as_array().unwrap().contains(&json!(m)));
    }
    // An empty extrinsic: `author::error::Error::BadFormat` (1001).
    let e = c
        .request::<Json, _>("author_submitExtrinsic", rpc_params!["0x00"])
        .await
        .unwrap_err();
    let (n, msg) = code(e);
    assert_eq!(n, 1001);
    assert!(msg.starts_with("Extrinsic has invalid format: "), "{msg}");

    let with: String = c
        .request("state_call", rpc_params!["Core_version", "0x"])
        .await
        .unwrap();
    let without: String = c
        .request("state_call", rpc_params!["Core_version", ""])
        .await
        .unwrap();
    assert_eq!(with, without);
    let at: String = c
        .request(
            "state_callAt",
            rpc_params!["Core_version", "0x", head.clone()],
        )
        .await
        .unwrap();
    assert_eq!(with, at);

    let mut sub: Subscription<Json> = c
        .subscribe(
            "chain_subscribeNewHead",
            rpc_params![],
            "chain_unsubscribeNewHead",
        )
        .await
        .unwrap();
    assert_eq!(sub.next().await.unwrap().unwrap()["number"], "0x3");
    sub.unsubscribe().await.unwrap();

    // //Alice: nothing known, nonce 0.
    let n: u32 = c
        .request(
            "account_nextIndex",
            rpc_params!["5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"],
        )
        .await
        .unwrap();
    assert_eq!(n, 0);
    let pool: Vec<String> = c
        .request("author_pendingExtrinsics", rpc_params![])
        .await
        .unwrap();
    assert!(pool.is_empty());
    let sync: Json = c.request("system_syncState", rpc_params![]).await.unwrap();
    assert_eq!(
        sync,
        json!({"startingBlock": 0, "currentBlock": 3, "highestBlock": 3})
    );
    let roles: Vec<String> = c.request("system_nodeRoles", rpc_params![]).await.unwrap();
    assert_eq!(roles, ["Full"]);
    let mut fin: Subscription<Json> = c
        .subscribe(
            "chain_subscribeFinalisedHeads",
            rpc_params![],
            "chain_unsubscribeFinalisedHeads",
        )
        .await
        .unwrap();
    assert!(fin.next().await.unwrap().unwrap()["number"].is_string());
    fin.unsubscribe().await.unwrap();
    let info: Json = c
        .request("payment_queryInfo", rpc_params!["0x0c040000"])
        .await
        .unwrap();
    assert_eq!(
        info,
        json!({"weight": {"ref_time": 1_000_000_000u64, "proof_size": 0}, "class": "normal", "partialFee": "100000"})
    );
    let fd: Json = c
        .request("payment_queryFeeDetails", rpc_params!["0x0c040000"])
        .await
        .unwrap();
    assert_eq!(fd["inclusionFee"]["adjustedWeightFee"], 100_000);
    let e = c
        .request::<Json, _>("payment_queryInfo", rpc_params!["0x0c04"])
        .await
        .unwrap_err();
    assert_eq!(code(e), (2, "Unable to query dispatch info.".into()));
    // The runtime call: extrinsic (as Bytes) then its length.
    let r: String = c
        .request(
            "state_call",
            rpc_params!["TransactionPaymentApi_query_info", "0c04000003000000"],
        )
        .await
        .unwrap();
    assert!(r.starts_with("0x"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_names_what_is_not_modelled() {
    let (h, c) = devnet(true).await;
    let member = key(
        &h,
        "SubtensorModule",
        "Axons",
        &[KeyPart::Num(1), KeyPart::Account(named_account("val-a"))],
    );
    let e = c
        .request::<Json, _>("state_getStorage", rpc_params![member.clone()])
        .await
        .unwrap_err();
    let (code_, msg) = code(e);
    assert_eq!(code_, crate::modelled::UNMODELLED_CODE);
    assert!(msg.contains("SubtensorModule.Axons"), "{msg}");
    let e = c
        .request::<Json, _>("state_getKeysPaged", rpc_params![&member[..66], 10])
        .await
        .unwrap_err();
    assert!(code(e).1.contains("Axons"));
    let e = c
        .request::<Json, _>(
            "state_call",
            rpc_params!["SubnetInfoRuntimeApi_get_subnet_state", "0x0100"],
        )
        .await
        .unwrap_err();
    assert!(code(e).1.contains("SubnetInfoRuntimeApi_get_subnet_state"));
    // Modelled items still answer, null included.
    let ok: Option<String> = c
        .request("state_getStorage", rpc_params![tha(&h, "val-a", 1)])
        .await
        .unwrap();
    assert!(ok.is_some());
    h.stop().await;

    let (h, c) = devnet(false).await;
    let v: Option<String> = c
        .request("state_getStorage", rpc_params![member])
        .await
        .unwrap();
    assert_eq!(v, None);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_subscription_and_query_storage_match_get_storage() {
    let (h, c) = devnet(true).await;
    h.advance(2).unwrap();
    let keys = vec![
        tha(&h, "val-a", 1),
        tha(&h, "m-a5", 1),
        tha(&h, "nobody", 1),
    ];
    let mut sub: Subscription<Json> = c
        .subscribe(
            "state_subscribeStorage",
            rpc_params![keys.clone()],
            "state_unsubscribeStorage",
        )
        .await
        .unwrap();
    let first = sub.next().await.unwrap().unwrap();
    assert_eq!(first["changes"].as_array().unwrap().len(), 3);
    assert_eq!(first["changes"][2][1], Json::Null);
    let from: String = c
        .request("chain_getBlockHash", rpc_params![2])
        .await
        .unwrap();
    h.advance(40).unwrap();
    let mut seen = 0;
    while let Ok(Some(Ok(n))) =
        tokio::time::timeout(std::time::Duration::from_millis(500), sub.next()).await
    {
        let block = n["block"].as_str().unwrap().to_string();
        for ch in n["changes"].as_array().unwrap() {
            let v: Option<String> = c
                .request(
                    "state_getStorage",
                    rpc_params![ch[0].clone(), block.clone()],
                )
                .await
                .unwrap();
            assert_eq!(json!(v), ch[1]);
        }
        seen += 1;
    }
    assert!(seen >= 2, "epochs at 20 and 40 change stakes, got {seen}");
    sub.unsubscribe().await.unwrap();

    let sets: Vec<Json> = c
        .request("state_queryStorage", rpc_params![keys.clone(), from])
        .await
        .unwrap();
    assert_eq!(sets[0]["changes"].as_array().unwrap().len(), 3);
    assert_eq!(sets.len(), seen + 1);
    for set in &sets {
        for ch in set["changes"].as_array().unwrap() {
            let v: Option<String> = c
                .request(
                    "state_getStorage",
                    rpc_params![ch[0].clone(), set["block"].clone()],
                )
                .await
                .unwrap();
            assert_eq!(json!(v), ch[1]);
        }
    }
    let at: Vec<Json> = c
        .request("state_queryStorageAt", rpc_params![keys])
        .await
        .unwrap();
    assert_eq!(at[0]["changes"].as_array().unwrap().len(), 3);
    h.stop().await;
}
