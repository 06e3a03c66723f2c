// What the polkadot.js test scripts share: a check that throws with its reason, a promise
// with a deadline, the connection to the devnet, and running `main` as a script (exit 0, or
// 1 with the error on stderr; each script prints its JSON summary on stdout itself).
import { ApiPromise, WsProvider } from '@polkadot/api';

export function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

export const withTimeout = (p, ms, what) =>
  Promise.race([
    p,
    new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out: ${what}`)), ms)),
  ]);

// `{ api, provider }`: an ApiPromise on `url` (reconnecting every second) and its
// provider (for raw JSON-RPC), or an error after 60 s.
export async function connect(url) {
  const provider = new WsProvider(url, 1000);
  const api = await withTimeout(
    ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true }),
    60_000,
    'connect',
  );
  return { api, provider };
}

export function run(main) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e.stack ?? String(e));
      process.exit(1);
    },
  );
}
