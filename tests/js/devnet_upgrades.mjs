// polkadot.js across runtime upgrades: against `vesting devnet --scenario upgrades` (393
// runs blocks 1..=61, block 61 carries set_code to 424, 424 runs 62..=141, block 141
// carries set_code to 459), reads every block from 1 to LAST as an explorer would: the
// runtime version of the state at the block (`state_getRuntimeVersion(hash)`: the code
// after the block, so the set_code block already says the new spec), the runtime the block
// ran with (`api.at(hash)` decodes with its parent's runtime, as a node executes it), its
// events and extrinsics decoded with that runtime's metadata, and System.CodeUpdated.
// Usage: node devnet_upgrades.mjs ws://127.0.0.1:PORT [last]
// Prints one JSON summary line on stdout; exits non-zero with the reason on failure.
import { connect, run } from './common.mjs';

const url = process.argv[2];
const LAST = Number(process.argv[3] ?? 160);
if (!url) throw new Error('usage: node devnet_upgrades.mjs ws://host:port [last]');

async function main() {
  const { api } = await connect(url);
  // Wait for the chain to pass LAST.
  for (;;) {
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    if (head >= LAST) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const specs = []; // state_getRuntimeVersion: [from, to, spec]
  const ranWith = []; // api.at's runtime: [from, to, spec]
  const byRun = {}; // event names by the runtime that emitted them
  const push = (runs, n, spec) => {
    const last = runs[runs.length - 1];
    if (last && last[2] === spec && last[1] === n - 1) last[1] = n;
    else runs.push([n, n, spec]);
  };
  const codeUpdated = [];
  const eventCounts = {};
  const errors = [];
  let events = 0;
  let extrinsics = 0;
  let signed = 0;
  for (let n = 1; n <= LAST; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    try {
      push(specs, n, (await api.rpc.state.getRuntimeVersion(hash)).specVersion.toNumber());
      const at = await api.at(hash);
      const run = at.runtimeVersion.specVersion.toNumber();
      push(ranWith, n, run);
      const recs = await at.query.system.events();
      for (const { event } of recs) {
        const name = `${event.section}.${event.method}`;
        JSON.stringify(event.data.toJSON());
        eventCounts[name] = (eventCounts[name] ?? 0) + 1;
        byRun[run] = byRun[run] ?? {};
        byRun[run][name] = (byRun[run][name] ?? 0) + 1;
        events += 1;
        if (name === 'system.CodeUpdated') codeUpdated.push(n);
      }
      const block = await api.derive.chain.getBlock(hash);
      for (const xt of block.block.extrinsics) {
        JSON.stringify(xt.method.toHuman());
        extrinsics += 1;
        if (xt.isSigned) signed += 1;
      }
      const number = (await at.query.system.number()).toNumber();
      if (number !== n) errors.push(`block ${n}: System.Number ${number}`);
    } catch (e) {
      errors.push(`block ${n}: ${e.message.split('\n')[0]}`);
    }
  }
  const lru = await api.query.system.lastRuntimeUpgrade();
  console.log(
    JSON.stringify({
      specs,
      ranWith,
      codeUpdated,
      lastRuntimeUpgrade: lru.isSome ? lru.unwrap().specVersion.toNumber() : null,
      headSpec: api.runtimeVersion.specVersion.toNumber(),
      events,
      extrinsics,
      signed,
      eventCounts,
      byRun,
      errors,
    }),
  );
  await api.disconnect();
}

run(main);
