// polkadot.js signs real transactions against a running `vesting devnet --scenario edges`:
// `subtensorModule.addStake` as the dev account //Alice (keyring.addFromUri), sent with
// signAndSend-style status callbacks (author_submitAndWatchExtrinsic) until finalized,
// then its events (StakeAdded, Balances.Withdraw, TransactionFeePaid), the stake and the
// nonce are read back; a tampered signature and a replayed extrinsic are refused (1010).
// Usage: node devnet_signed.mjs ws://127.0.0.1:PORT
// Prints one JSON summary line on stdout; exits non-zero with the reason on failure.
import { Keyring } from '@polkadot/api';
import { compactFromU8a, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { check, withTimeout, connect, run } from './common.mjs';

const url = process.argv[2];
if (!url) throw new Error('usage: node devnet_signed.mjs ws://host:port');

// Scenario accounts are the sr25519 keys of //name (`vesting devnet --accounts`);
// val-a validates sn1.
await cryptoWaitReady();
const named = (n) =>
  u8aToHex(new Keyring({ type: 'sr25519' }).addFromUri(`//${n}`).publicKey);
const VAL_A = named('val-a');
const AMOUNT = 2_000_000_000n; // 2 TAO

// Submits raw bytes and returns the JSON-RPC error "code: message: data", or null.
async function refusal(api, hex) {
  try {
    await api.rpc.author.submitExtrinsic(hex);
    return null;
  } catch (e) {
    return e.message.split('\n')[0];
  }
}

async function main() {
  await cryptoWaitReady();
  const { api } = await connect(url);
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const alice = keyring.addFromUri('//Alice');
  check(
    alice.address === '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
    `//Alice address ${alice.address}`,
  );

  const nonceBefore = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
  const accountBefore = await api.query.system.account(alice.address);
  const free0 = accountBefore.data.free.toBigInt();
  check(free0 > AMOUNT, `//Alice is funded at genesis (${free0})`);

  // Sign, then send with status callbacks (author_submitAndWatchExtrinsic).
  const tx = api.tx.subtensorModule.addStake(VAL_A, 1, AMOUNT);
  await tx.signAsync(alice, { nonce: nonceBefore });
  const signedHex = tx.toHex();
  const statuses = [];
  let inBlock = null;
  let finalized = null;
  let events = [];
  let pendingSeen = null;
  await withTimeout(
    new Promise((resolve, reject) => {
      tx.send((result) => {
        statuses.push(result.status.type);
        if (result.status.isInBlock) inBlock = result.status.asInBlock.toHex();
        if (result.status.isFinalized) {
          finalized = result.status.asFinalized.toHex();
          events = result.events;
          resolve();
        }
        if (result.status.isInvalid || result.status.isDropped) {
          reject(new Error(`transaction ${result.status.type}`));
        }
      })
        .then(async () => {
          pendingSeen = (await api.rpc.author.pendingExtrinsics()).map((x) => x.toHex());
        })
        .catch(reject);
    }),
    60_000,
    'addStake finalized',
  );
  check(statuses[0] === 'Ready', `first status Ready: ${statuses}`);
  check(statuses.includes('InBlock'), `InBlock status: ${statuses}`);
  check(statuses[statuses.length - 1] === 'Finalized', `last status Finalized: ${statuses}`);
  check(inBlock === finalized, `finalized the block it was in (${inBlock} vs ${finalized})`);

  // The events of the extrinsic (polkadot.js matched them by its index in the block).
  const names = events.map(({ event }) => `${event.section}.${event.method}`);
  for (const n of [
    'balances.Withdraw',
    'subtensorModule.StakeAdded',
    'transactionPayment.TransactionFeePaid',
    'system.ExtrinsicSuccess',
  ]) {
    check(names.includes(n), `${n} in ${names}`);
  }
  const feePaid = events.find(({ event }) => event.method === 'TransactionFeePaid').event;
  check(feePaid.data[0].toString() === alice.address, 'TransactionFeePaid.who is //Alice');
  const fee = feePaid.data[1].toBigInt();
  const stakeAdded = events.find(({ event }) => event.method === 'StakeAdded').event;
  check(stakeAdded.data[0].toString() === alice.address, 'StakeAdded.coldkey is //Alice');
  check(stakeAdded.data[1].toHex() === VAL_A, 'StakeAdded.hotkey is val-a');
  check(stakeAdded.data[2].toBigInt() === AMOUNT, `StakeAdded.tao ${stakeAdded.data[2]}`);

  // The block body holds the extrinsic as sent, decodable, with a real signature.
  const block = await api.rpc.chain.getBlock(inBlock);
  const mine = block.block.extrinsics.find((x) => x.toHex() === signedHex);
  check(mine && mine.isSigned, 'the signed extrinsic is in its block');
  check(mine.signer.toString() === alice.address, 'its signer is //Alice');

  // Stake, nonce and balance read back at the finalized block and the head.
  const stakes = await api.call.stakeInfoRuntimeApi.getStakeInfoForColdkey(alice.address);
  const own = stakes.find((s) => s.hotkey.toHex() === VAL_A && s.netuid.toNumber() === 1);
  check(own && own.stake.toBigInt() > 0n, 'StakeInfoRuntimeApi lists //Alice -> val-a on sn1');
  const nonceAfter = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
  check(nonceAfter === nonceBefore + 1, `nonce rose ${nonceBefore} -> ${nonceAfter}`);
  const accountAfter = await api.query.system.account(alice.address);
  check(accountAfter.nonce.toNumber() === nonceAfter, 'System.Account nonce');
  const spent = free0 - accountAfter.data.free.toBigInt();
  check(spent === AMOUNT + fee, `free balance fell by amount + fee (${spent})`);

  // A tampered signature (one bit of it flipped) is refused.
  const tx2 = api.tx.subtensorModule.addStake(VAL_A, 1, AMOUNT);
  await tx2.signAsync(alice, { nonce: nonceAfter });
  const u8a = tx2.toU8a();
  const [prefix] = compactFromU8a(u8a);
  // length prefix, 0x84, MultiAddress::Id (1 + 32), MultiSignature variant (1), 64 bytes
  u8a[prefix + 1 + 33 + 1 + 7] ^= 1;
  const badSignature = await refusal(api, u8aToHex(u8a));
  // The same extrinsic again: its nonce is spent.
  const replay = await refusal(api, signedHex);
  // An unsigned call that is no inherent, and a call the devnet does not model.
  const remark = await api.tx.system.remark('0x00').signAsync(alice, { nonce: nonceAfter });
  const unmodelled = await refusal(api, remark.toHex());
  check(
    badSignature === '1010: Invalid Transaction: Transaction has a bad signature',
    `bad signature refused: ${badSignature}`,
  );
  check(
    replay === '1010: Invalid Transaction: Transaction is outdated',
    `replay refused: ${replay}`,
  );
  check(unmodelled && unmodelled.startsWith('1010: Invalid Transaction:'), `remark: ${unmodelled}`);
  const nonceEnd = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
  check(nonceEnd === nonceAfter, 'refused transactions do not use a nonce');

  console.log(
    JSON.stringify({
      address: alice.address,
      statuses,
      events: names,
      fee: fee.toString(),
      stake: own.stake.toString(),
      nonceBefore,
      nonceAfter,
      pendingAfterSend: pendingSeen ? pendingSeen.length : null,
      badSignature,
      replay,
      unmodelled,
    }),
  );
  await api.disconnect();
}

run(main);
