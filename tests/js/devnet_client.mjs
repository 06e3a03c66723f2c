// polkadot.js against a running `vesting devnet --scenario edges --strict`, as a dashboard
// would use it: connect, follow new heads, decode every block's events, a storage
// subscription, queryMulti, an account's next index, a runtime API call and a fee estimate.
// Usage: node devnet_client.mjs ws://127.0.0.1:PORT [blocks]
// Prints one JSON summary line on stdout; exits non-zero with the reason on failure.
import { Keyring } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, encodeAddress } from '@polkadot/util-crypto';
import { check, withTimeout, connect, run } from './common.mjs';

const url = process.argv[2];
const BLOCKS = Number(process.argv[3] ?? 30);
if (!url) throw new Error('usage: node devnet_client.mjs ws://host:port [blocks]');

// Scenario accounts are the sr25519 keys of //name (`vesting devnet --accounts`).
await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
const named = (n) => u8aToHex(keyring.addFromUri(`//${n}`).publicKey);
const VAL_A = named('val-a');
const VALA = named('vala');
const VALA_SS58 = encodeAddress(VALA, 42);

async function main() {
  const { api, provider } = await connect(url);
  const summary = {
    chain: (await api.rpc.system.chain()).toString(),
    specVersion: api.runtimeVersion.specVersion.toNumber(),
    metadataVersion: api.runtimeMetadata.version,
  };

  // Storage subscriptions (state_subscribeStorage) opened before the blocks arrive.
  const alphaSeen = [];
  const unsubAlpha = await api.query.subtensorModule.totalHotkeyAlpha(VAL_A, 1, (v) =>
    alphaSeen.push(v.toBigInt()),
  );
  let multiUpdates = 0;
  let lastMulti = null;
  const unsubMulti = await api.queryMulti(
    [
      [api.query.subtensorModule.totalHotkeyAlpha, [VAL_A, 1]],
      [api.query.system.account, VALA],
      api.query.timestamp.now,
    ],
    (vals) => {
      multiUpdates += 1;
      lastMulti = vals;
    },
  );
  let accountUpdates = 0;
  const unsubAccount = await api.query.system.account(VALA, () => (accountUpdates += 1));

  // New heads (chain_subscribeNewHead): every block's events decoded at its hash.
  const heads = [];
  await withTimeout(
    new Promise((resolve, reject) => {
      let unsub = null;
      api.rpc.chain
        .subscribeNewHeads((h) => {
          heads.push({ number: h.number.toNumber(), hash: h.hash.toHex() });
          if (heads.length >= BLOCKS) {
            if (unsub) unsub();
            resolve();
          }
        })
        .then((u) => (unsub = u))
        .catch(reject);
    }),
    BLOCKS * 2000 + 30_000,
    `${BLOCKS} new heads`,
  );
  for (let i = 1; i < heads.length; i++) {
    check(heads[i].number === heads[i - 1].number + 1, `heads in order at ${heads[i].number}`);
  }

  // Every block from 1 to the last head (the heads cover the last ~BLOCKS of them;
  // chain_getBlockHash must agree with them), so the epoch blocks 20 and 40 are decoded
  // however long connecting took.
  const blocks = [];
  const last = heads[heads.length - 1].number;
  for (let n = 1; n <= last; n++) {
    blocks.push({ number: n, hash: (await api.rpc.chain.getBlockHash(n)).toHex() });
  }
  for (const h of heads) {
    check(blocks[h.number - 1].hash === h.hash, `chain_getBlockHash(${h.number}) = head hash`);
  }
  const eventCounts = {};
  let events = 0;
  let blocksWithEvents = 0;
  let extrinsicsDecoded = 0;
  const extrinsicErrors = [];
  for (const { number, hash } of blocks) {
    const at = await api.at(hash);
    const recs = await at.query.system.events();
    if (recs.length) blocksWithEvents += 1;
    for (const { event } of recs) {
      const name = `${event.section}.${event.method}`;
      // Every field decodes to JSON (throws on a type the metadata cannot read).
      JSON.stringify(event.data.toJSON());
      eventCounts[name] = (eventCounts[name] ?? 0) + 1;
      events += 1;
    }
    check(
      (await at.query.system.number()).toNumber() === number,
      `System.Number at block ${number}`,
    );
    try {
      const block = await api.rpc.chain.getBlock(hash);
      for (const xt of block.block.extrinsics) {
        JSON.stringify(xt.method.toHuman());
        extrinsicsDecoded += 1;
      }
    } catch (e) {
      extrinsicErrors.push(`block ${number}: ${e.message.split('\n')[0]}`);
    }
  }
  check(events > 0, 'some events');
  check(eventCounts['system.ExtrinsicSuccess'] > 0, `System.ExtrinsicSuccess events in ${JSON.stringify(eventCounts)}`);

  // Let the subscriptions deliver the last block's changes, then compare with reads.
  await new Promise((r) => setTimeout(r, 1500));
  unsubAlpha();
  unsubMulti();
  unsubAccount();
  const head = await api.rpc.chain.getHeader();
  const alphaNow = (await api.query.subtensorModule.totalHotkeyAlpha(VAL_A, 1)).toBigInt();
  check(alphaSeen.length >= 2, `TotalHotkeyAlpha changes notified (${alphaSeen.length})`);
  check(
    alphaSeen[alphaSeen.length - 1] === alphaNow ||
      alphaSeen.includes(alphaNow),
    `last notified TotalHotkeyAlpha ${alphaSeen[alphaSeen.length - 1]} vs read ${alphaNow}`,
  );
  check(multiUpdates >= BLOCKS - 2, `queryMulti notified per block (${multiUpdates})`);
  check(lastMulti[0].toBigInt() > 0n, 'queryMulti TotalHotkeyAlpha');
  check(lastMulti[2].toBigInt() > 0n, 'queryMulti Timestamp.Now');

  // system_accountNextIndex: the System.Account nonce.
  const next = (await api.rpc.system.accountNextIndex(VALA_SS58)).toNumber();
  const info = await api.query.system.account(VALA);
  check(next === info.nonce.toNumber(), `accountNextIndex ${next} = nonce ${info.nonce}`);

  // Runtime APIs through state_call (api.call, decoded with the metadata's types).
  const stakes = await api.call.stakeInfoRuntimeApi.getStakeInfoForColdkey(VALA);
  const own = stakes.find((s) => s.hotkey.toHex() === VAL_A && s.netuid.toNumber() === 1);
  check(own && own.stake.toBigInt() > 0n, 'StakeInfoRuntimeApi lists vala -> val-a on sn1');
  const nextEpoch = await api.call.subnetInfoRuntimeApi.getNextEpochStartBlock(1);
  check(nextEpoch.isSome, 'SubnetInfoRuntimeApi_get_next_epoch_start_block(1)');
  const version = await api.call.core.version();
  check(version.specVersion.eq(api.runtimeVersion.specVersion), 'Core_version');

  // A fee estimate: paymentInfo signs a fake extrinsic and asks TransactionPaymentApi.
  let partialFee = null;
  let feeError = null;
  try {
    const fee = await api.tx.system.remark('0x00').paymentInfo(VALA_SS58);
    partialFee = fee.partialFee.toString();
  } catch (e) {
    feeError = e.message.split('\n')[0];
  }
  // The same through the legacy RPC (payment_queryInfo / payment_queryFeeDetails).
  // polkadot.js decodes payment_queryInfo as RuntimeDispatchInfoV1 (weight a u64, "stuck
  // on V1" in its definitions), which fails on what Substrate nodes send
  // ({ref_time, proof_size}), so the raw answer is read.
  const remark = api.tx.system.remark('0x00').toHex();
  const rpcInfo = await provider.send('payment_queryInfo', [remark]);
  const rpcDetails = await api.rpc.payment.queryFeeDetails(remark);
  const pending = await api.rpc.author.pendingExtrinsics();

  Object.assign(summary, {
    heads: heads.length,
    firstHead: heads[0].number,
    lastHead: last,
    eventBlocks: blocks.length,
    head: head.number.toNumber(),
    events,
    blocksWithEvents,
    eventKinds: Object.keys(eventCounts).length,
    eventCounts,
    extrinsicsDecoded,
    extrinsicErrors: extrinsicErrors.length,
    firstExtrinsicError: extrinsicErrors[0] ?? null,
    alphaNotifications: alphaSeen.length,
    queryMultiNotifications: multiUpdates,
    accountNotifications: accountUpdates,
    accountNextIndex: next,
    stakeInfos: stakes.length,
    valaStakeOnValA: own.stake.toString(),
    nextEpochStartBlock: nextEpoch.unwrap().toNumber(),
    partialFee,
    feeError,
    rpcPartialFee: rpcInfo.partialFee,
    rpcClass: rpcInfo.class,
    rpcWeight: rpcInfo.weight,
    rpcAdjustedWeightFee: rpcDetails.inclusionFee.unwrap().adjustedWeightFee.toString(),
    pendingExtrinsics: pending.length,
  });
  console.log(JSON.stringify(summary));
  await api.disconnect();
}

run(main);
