// A dev-account validator sets weights through a real extrinsic against a running
// `vesting devnet` whose scenario (written by tests/tests/devnet_signed.rs) has //Alice
// register her own hotkey on sn1 (uid 4) and stake to it at block 1, beside equal
// configured miners m1..m3 (uids 1..3); `--prefill-blocks 105` puts the chain past the
// WeightsSetRateLimit (100) and several epochs (tempo 10), which gave her a validator
// permit. polkadot.js signs `subtensorModule.setWeights` as //Alice (the hotkey signs),
// waits for it in a block (`WeightsSet(1, 4)`), has an immediate second call refused
// (`SettingWeightsTooFast`), and compares the miners' `IncentiveAlphaEmittedToMiners`
// of the epoch before with the first epoch after.
// Usage: node devnet_weights.mjs ws://127.0.0.1:PORT
// Prints one JSON summary line on stdout; exits non-zero with the reason on failure.
import { Keyring } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { check, withTimeout, connect, run } from './common.mjs';

const url = process.argv[2];
if (!url) throw new Error('usage: node devnet_weights.mjs ws://host:port');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function head(api) {
  return (await api.rpc.chain.getHeader()).number.toNumber();
}

// The sn1 miners' incentive (by uid) of the epochs in blocks [from, to].
async function epochIncentives(api, from, to) {
  const out = [];
  for (let n = from; n <= to; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const events = await api.query.system.events.at(hash);
    for (const { event } of events) {
      if (event.section === 'subtensorModule' && event.method === 'IncentiveAlphaEmittedToMiners') {
        const netuid = event.data[0].toJSON();
        const id = typeof netuid === 'object' ? Object.values(netuid)[0] : netuid;
        if (Number(id) === 1) {
          out.push({ block: n, emissions: event.data[1].map((x) => x.toBigInt()) });
        }
      }
    }
  }
  return out;
}

async function waitFor(api, n) {
  while ((await head(api)) < n) await sleep(100);
}

async function main() {
  await cryptoWaitReady();
  const { api } = await connect(url);
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const alice = keyring.addFromUri('//Alice');
  const aliceUid = (await api.query.subtensorModule.uids(1, alice.address)).unwrapOr(null);
  check(aliceUid !== null && aliceUid.toNumber() === 4, `//Alice holds uid 4 on sn1 (${aliceUid})`);

  // Before: the epoch events so far (equal configured scores).
  const start = await head(api);
  const before = await epochIncentives(api, Math.max(1, start - 12), start);
  check(before.length > 0, `an sn1 epoch in blocks ${start - 12}..${start}`);
  const prev = before[before.length - 1].emissions;

  // The hotkey signs set_weights: uids 1, 2, 3 weighed 1 : 1 : 8.
  const tx = api.tx.subtensorModule.setWeights(1, [1, 2, 3], [1, 1, 8], 0);
  let inBlock = null;
  let events = [];
  await withTimeout(
    new Promise((resolve, reject) => {
      tx.signAndSend(alice, (result) => {
        if (result.status.isInBlock) {
          inBlock = result.status.asInBlock.toHex();
          events = result.events;
          resolve();
        }
        if (result.status.isInvalid || result.status.isDropped) {
          reject(new Error(`transaction ${result.status.type}`));
        }
      }).catch(reject);
    }),
    60_000,
    'setWeights in a block',
  );
  const names = events.map(({ event }) => `${event.section}.${event.method}`);
  check(names.includes('subtensorModule.WeightsSet'), `WeightsSet in ${names}`);
  const ws = events.find(({ event }) => event.method === 'WeightsSet').event;
  const wsJson = ws.data.toJSON();
  const setBlock = (await api.rpc.chain.getHeader(inBlock)).number.toNumber();

  // At once again: inside WeightsSetRateLimit.
  let tooFast = null;
  try {
    const again = api.tx.subtensorModule.setWeights(1, [1], [1], 0);
    await again.signAsync(alice);
    await api.rpc.author.submitExtrinsic(again.toHex());
  } catch (e) {
    tooFast = e.message.split('\n')[0];
  }

  // After: the first epoch past the weights' block (tempo 10).
  await withTimeout(waitFor(api, setBlock + 12), 60_000, 'the next epoch');
  const after = await epochIncentives(api, setBlock + 1, setBlock + 12);
  check(after.length > 0, `an sn1 epoch after block ${setBlock}`);
  const next = after[0].emissions;
  const share = (v, i) => Number((v[i] * 1_000_000n) / v.reduce((a, b) => a + b, 0n)) / 1e6;

  console.log(
    JSON.stringify({
      uid: aliceUid.toNumber(),
      weightsSet: wsJson,
      setBlock,
      tooFast,
      beforeBlock: before[before.length - 1].block,
      afterBlock: after[0].block,
      before: prev.map(String),
      after: next.map(String),
      m3ShareBefore: share(prev, 3),
      m3ShareAfter: share(next, 3),
      m1ShareAfter: share(next, 1),
    }),
  );
  await api.disconnect();
}

run(main);
