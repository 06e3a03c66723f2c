//! The author methods over a real WebSocket: submit, watch to finalized, the pool, the
//! next index, and refusals with a node's codes.

use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::{Value as Json, json};

use crate::chain::hex0x;
use crate::extrinsic::action_call;
use crate::model::Action;
use crate::tx::keys::{SS58_PREFIX, dev_account, dev_keypair, ss58};
use crate::{DevnetConfig, Scenario, named_account, start};

fn error(e: jsonrpsee::core::ClientError) -> (i32, String, Option<String>) {
    match e {
        jsonrpsee::core::ClientError::Call(o) => (
            o.code(),
            o.message().to_string(),
            o.data().map(|d| serde_json::from_str(d.get()).unwrap()),
        ),
        e => panic!("not a call error: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_watch_to_finalized_and_refuse_a_replay() {
    let mut cfg = DevnetConfig::new(Scenario::builtin("edges").unwrap());
    cfg.block_time_ms = 0;
    cfg.finality_depth = 1;
    let h = start(cfg).await.unwrap();
    let c = WsClientBuilder::default().build(h.ws_url()).await.unwrap();
    let (md, genesis) = {
        let ch = h.chain().read().unwrap();
        (ch.md(), ch.genesis_hash())
    };
    let stake = |tao: u64| {
        let a = Action::AddStake {
            coldkey: dev_account("Bob"),
            hotkey: named_account("val-a"),
            netuid: 1,
            tao,
        };
        let call = action_call(&md, &a).unwrap();
        crate::encode::encode(md.types(), md.call_enum_type(), &call).unwrap()
    };
    let bob = ss58(&dev_account("Bob"), SS58_PREFIX);
    let xt =
        crate::tx::sign_extrinsic(&md, genesis, &dev_keypair("Bob"), 0, &stake(10_000)).unwrap();
    let mut sub: Subscription<Json> = c
        .subscribe(
            "author_submitAndWatchExtrinsic",
            rpc_params![hex0x(&xt)],
            "author_unwatchExtrinsic",
        )
        .await
        .unwrap();
    assert_eq!(sub.next().await.unwrap().unwrap(), json!("ready"));
    // Without a block timer the submission produced its block.
    let in_block = sub.next().await.unwrap().unwrap();
    let block = in_block["inBlock"].as_str().unwrap().to_string();
    let head: String = c
        .request("chain_getBlockHash", rpc_params![])
        .await
        .unwrap();
    assert_eq!(block, head);
    let body: Json = c
        .request("chain_getBlock", rpc_params![&block])
        .await
        .unwrap();
    assert!(
        body["block"]["extrinsics"]
            .as_array()
            .unwrap()
            .contains(&json!(hex0x(&xt)))
    );
    let n: u32 = c
        .request("system_accountNextIndex", rpc_params![&bob])
        .await
        .unwrap();
    assert_eq!(n, 1);
    h.advance(1).unwrap();
    assert_eq!(
        sub.next().await.unwrap().unwrap(),
        json!({ "finalized": block })
    );
    // The replay is stale; an unsigned extrinsic cannot be validated.
    let e = c
        .request::<String, _>("author_submitExtrinsic", rpc_params![hex0x(&xt)])
        .await
        .unwrap_err();
    assert_eq!(
        error(e),
        (
            1010,
            "Invalid Transaction".into(),
            Some("Transaction is outdated".into())
        )
    );
    let e = c
        .subscribe::<Json, _>(
            "author_submitAndWatchExtrinsic",
            rpc_params![hex0x(&xt)],
            "author_unwatchExtrinsic",
        )
        .await
        .unwrap_err();
    assert_eq!(error(e).0, 1010);
    // Nothing waits in the pool; the next nonce lands at once too.
    let pool: Vec<String> = c
        .request("author_pendingExtrinsics", rpc_params![])
        .await
        .unwrap();
    assert!(pool.is_empty());
    let xt2 =
        crate::tx::sign_extrinsic(&md, genesis, &dev_keypair("Bob"), 1, &stake(20_000)).unwrap();
    let hash: String = c
        .request("author_submitExtrinsic", rpc_params![hex0x(&xt2)])
        .await
        .unwrap();
    assert_eq!(hash, hex0x(&crate::hashing::blake2_256(&xt2)));
    let n: u32 = c
        .request("system_accountNextIndex", rpc_params![&bob])
        .await
        .unwrap();
    assert_eq!(n, 2);
    h.stop().await;
}
