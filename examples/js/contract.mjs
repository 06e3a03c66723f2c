// The contracts this host speaks and the adapter between them: which component export means
// which contract (`bittensor:vesting@0.1.0`, `wit/0.1.0/vesting.wit`; `bittensor:vesting@0.2.0`,
// `wit/vesting.wit`), and how a value in the 0.1 shape (account strings, `list<holder-ledger>`)
// becomes a 0.2 one (an account table and u32 indices, flat `ledgers`) and back. The typed
// methods of `vesting_policy.mjs` and the contract-neutral vectors speak the 0.1 shape; this
// module is the only place that knows the 0.2 one differs.
//
// The adapter (as `wit/vesting.wit`'s package documentation says):
//
// - input, 0.1 -> 0.2: every account string of the input (each field of type `account` in the
//   0.2 WIT, and each ledger's holder; "" included) is collected, deduplicated and sorted by
//   its UTF-8 bytes (`Buffer.compare`, not JS's UTF-16 `sort()`: "\uE000" < "\u{1F600}" in
//   bytes, the reverse in UTF-16) into the input's `accounts`; each string becomes its index;
//   `list<holder-ledger>` becomes the flat `ledgers` record, in input order;
// - output, 0.2 -> 0.1: each index becomes `accounts[index]` of the call's own input, `ledgers`
//   becomes `list<holder-ledger>` again. An index past the table, a tranche kind other than 0
//   (manual) or 1 (earned), or lists that do not add up are the policy's fault:
//   `PolicyOutputError`.
//
// Which fields are accounts is read from the 0.2 WIT (a field whose type is `account`, also
// inside lists and options), not listed here, so a record that gains an account field needs
// no change. The same walk maps 0.2 values to 0.1 ones whatever their direction (`to01`,
// `to02`), which is what a test needs to run a 0.1 policy behind a 0.2 face.

import { fileURLToPath } from "node:url";
import { PolicyInputError, PolicyOutputError } from "./errors.mjs";
import { camelName, snakeName } from "./wit.mjs";

const witPath = (rel) => fileURLToPath(new URL(`../../wit/${rel}`, import.meta.url));

/** The contracts this host speaks, oldest first: the contract's name, the interface a
 * component exports for it, the types interface it may import, and its WIT in this
 * checkout. */
export const CONTRACTS = [
  {
    version: "0.1.0",
    contract: "bittensor:vesting@0.1.0",
    export: "bittensor:vesting/policy@0.1.0",
    types: "bittensor:vesting/types@0.1.0",
    wit: witPath("0.1.0/vesting.wit"),
  },
  {
    version: "0.2.0",
    contract: "bittensor:vesting@0.2.0",
    export: "bittensor:vesting/policy@0.2.0",
    types: "bittensor:vesting/types@0.2.0",
    wit: witPath("vesting.wit"),
  },
];

/** The contract whose shape the typed methods and the contract-neutral vectors use. */
export const PRESENTED = CONTRACTS[0];
/** The contract of `wit/vesting.wit`, the newest this host speaks. */
export const LATEST = CONTRACTS[CONTRACTS.length - 1];

/** The contract a component implements, from the names of its exports (as jco lists them):
 * the newest one this host speaks, or null. */
export function contractOfExports(exports) {
  const names = new Set(exports);
  for (let i = CONTRACTS.length - 1; i >= 0; i--) {
    if (names.has(CONTRACTS[i].export)) return CONTRACTS[i];
  }
  return null;
}

// ------------------------------------------------------------------ the account table

/** Orders two strings by their UTF-8 bytes (the contract's account order). */
export function compareUtf8(a, b) {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** The account table of some account strings: deduplicated, sorted by UTF-8 bytes. */
export function accountTable(strings) {
  return [...new Set(strings)].sort(compareUtf8);
}

// ----------------------------------------------------------------------- flat ledgers

/** A tranche's 8 values in `ledgers.tranches`, in order (the 0.1 `tranche` fields). */
export const TRANCHE_FIELDS = ["kind", "start", "block", "amount", "remaining", "scheduled", "released", "sold_locked"];
/** `tranche-kind` (0.1, as serde names it) by its number in `ledgers.tranches`. */
export const TRANCHE_KINDS = ["Manual", "Earned"];

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** A 0.1 `list<holder-ledger>` as the 0.2 `ledgers` record; `account` maps a holder. */
export function flattenLedgers(list, account = (h) => h) {
  const out = { holders: [], unmatched_outflow: [], tranche_counts: [], tranches: [] };
  for (const ledger of list) {
    out.holders.push(account(ledger.holder));
    out.unmatched_outflow.push(ledger.unmatched_outflow);
    out.tranche_counts.push(ledger.tranches.length);
    for (const t of ledger.tranches) {
      const kind = TRANCHE_KINDS.indexOf(t.kind);
      out.tranches.push(BigInt(kind), ...TRANCHE_FIELDS.slice(1).map((f) => t[f]));
    }
  }
  return out;
}

/** The 0.2 `ledgers` record as a 0.1 `list<holder-ledger>`; `account(index, path)` maps a
 * holder. Throws `PolicyOutputError` (without policy and function; the caller adds them)
 * when the lists do not add up or a tranche kind is unknown. */
export function unflattenLedgers(v, account = (h) => h, path = "ledgers") {
  const bad = (at, problem) => new PolicyOutputError("", "", at, problem);
  const lists = ["holders", "unmatched_outflow", "tranche_counts", "tranches"];
  for (const key of lists) {
    if (!Array.isArray(v?.[key])) throw bad(`${path}.${key}`, "missing or not a list");
  }
  const { holders, unmatched_outflow: unmatched, tranche_counts: counts, tranches } = v;
  if (unmatched.length !== holders.length || counts.length !== holders.length) {
    throw bad(
      path,
      `${holders.length} holders, ${unmatched.length} unmatched-outflow and ${counts.length} tranche-counts: ` +
        "one of each per ledger",
    );
  }
  const total = counts.reduce((a, c) => a + BigInt(c), 0n);
  if (BigInt(tranches.length) !== total * 8n) {
    throw bad(
      `${path}.tranches`,
      `${tranches.length} values, but the tranche-counts add up to ${total} tranche(s) of 8 values (${total * 8n})`,
    );
  }
  let at = 0;
  return holders.map((holder, i) => {
    const list = [];
    for (let k = 0n; k < BigInt(counts[i]); k++, at += 8) {
      const code = BigInt(tranches[at]);
      const kind = code >= 0n && code < BigInt(TRANCHE_KINDS.length) ? TRANCHE_KINDS[Number(code)] : undefined;
      if (kind === undefined) {
        throw bad(`${path}.tranches[${at}]`, `tranche kind ${code} (ledger ${i}); the kinds are 0 manual and 1 earned`);
      }
      const tranche = { kind };
      TRANCHE_FIELDS.slice(1).forEach((f, j) => {
        tranche[f] = tranches[at + 1 + j];
      });
      list.push(tranche);
    }
    return { holder: account(holder, `${path}.holders[${i}]`), tranches: list, unmatched_outflow: unmatched[i] };
  });
}

// ------------------------------------------------------------------------ the adapter

/** Maps values between the 0.1 shape and the 0.2 shape, type by type, walking the 0.2 WIT
 * (`parseWit` of `wit/vesting.wit`). Values are in the JSON shape of the vectors. */
export class Adapter {
  constructor(wit02) {
    this.resolve = wit02.resolve;
  }

  /** The name a type reference finally names (through `use`), or null. */
  named(ty) {
    if (ty?.kind !== "ref") return null;
    const used = ty.scope.uses.get(ty.name);
    return used ? used.name : ty.name;
  }

  /** A call's arguments in the 0.1 shape (`params02`: the function's parameters in the 0.2
   * WIT) as 0.2 ones: `{ args, accounts }`, `accounts` the table the input now carries
   * (and the outputs refer to). Throws `PolicyInputError` for an account string that is
   * not valid Unicode (a lone surrogate has no UTF-8 bytes). */
  input(params02, args01) {
    const strings = new Set();
    params02.forEach((p, i) => this.collect(p.type, args01[i], snakeName(p.name), strings));
    const accounts = accountTable(strings);
    const index = new Map(accounts.map((a, i) => [a, i]));
    const args = params02.map((p, i) => this.to02(p.type, args01[i], index, accounts));
    return { args, accounts };
  }

  /** A result in the 0.2 shape (`result02`: the function's result type in the 0.2 WIT)
   * as a 0.1 one; `accounts` is the table of the call's input. Throws `PolicyOutputError`
   * (without policy and function) for an index past the table or malformed ledgers. */
  output(result02, value, accounts) {
    return this.to01(result02, value, accounts, "result");
  }

  /** Adds every account string of a 0.1-shaped value to `into`. */
  collect(ty, v, path, into) {
    const name = this.named(ty);
    if (name === "account") {
      if (typeof v === "string") {
        if (!v.isWellFormed()) throw new PolicyInputError(path, `account ${JSON.stringify(v)} is not valid Unicode (a lone surrogate)`);
        into.add(v);
      }
      return;
    }
    if (name === "ledgers") {
      if (Array.isArray(v)) v.forEach((l, i) => this.collect(this.accountRef(ty), l?.holder, `${path}[${i}].holder`, into));
      return;
    }
    const t = this.resolve(ty);
    if (t.kind === "record" && isObject(v)) {
      for (const f of t.fields) {
        const key = snakeName(f.name);
        if (key !== "accounts" && v[key] !== undefined) this.collect(f.type, v[key], `${path}.${key}`, into);
      }
    } else if (t.kind === "list" && Array.isArray(v)) {
      v.forEach((e, i) => this.collect(t.element, e, `${path}[${i}]`, into));
    } else if (t.kind === "option" && v !== null && v !== undefined) {
      this.collect(t.payload, v, path, into);
    } else if (t.kind === "tuple" && Array.isArray(v)) {
      t.elements.forEach((e, i) => this.collect(e, v[i], `${path}[${i}]`, into));
    }
  }

  /** A reference to `account` in the scope of `ty` (the type of a ledger's holder). */
  accountRef(ty) {
    return { kind: "ref", name: "account", scope: ty.scope };
  }

  /** A 0.1-shaped value as the 0.2 type `ty`: account strings become their index in
   * `index`, a record's `accounts` field becomes `accounts`. A value of the wrong shape is
   * passed on as it is (the converter then says where it does not fit). */
  to02(ty, v, index, accounts) {
    const name = this.named(ty);
    if (name === "account") return typeof v === "string" && index.has(v) ? index.get(v) : v;
    if (name === "ledgers") {
      if (!Array.isArray(v)) return v;
      return flattenLedgers(v, (h) => (index.has(h) ? index.get(h) : h));
    }
    const t = this.resolve(ty);
    if (t.kind === "record" && isObject(v)) {
      const out = {};
      for (const f of t.fields) {
        const key = snakeName(f.name);
        if (key === "accounts") out[key] = accounts;
        else if (v[key] !== undefined) out[key] = this.to02(f.type, v[key], index, accounts);
        else if (this.resolve(f.type).kind === "option") out[key] = null; // as serde: a missing option is none
      }
      return out;
    }
    if (t.kind === "list" && Array.isArray(v)) return v.map((e) => this.to02(t.element, e, index, accounts));
    if (t.kind === "option") return v === null || v === undefined ? null : this.to02(t.payload, v, index, accounts);
    if (t.kind === "tuple" && Array.isArray(v)) return t.elements.map((e, i) => this.to02(e, v[i], index, accounts));
    if (t.kind === "result" && isObject(v)) {
      if ("Ok" in v) return { Ok: t.ok === null ? v.Ok : this.to02(t.ok, v.Ok, index, accounts) };
      if ("Err" in v) return { Err: t.err === null ? v.Err : this.to02(t.err, v.Err, index, accounts) };
    }
    return v;
  }

  /** A 0.2-shaped value of type `ty` (as the converter reads it from the policy) in the
   * 0.1 shape: each index becomes `accounts[index]`, `ledgers` a list of holder ledgers,
   * a record's `accounts` field is dropped. */
  to01(ty, v, accounts, path) {
    const name = this.named(ty);
    if (name === "account") return accountAt(v, accounts, path);
    if (name === "ledgers") return unflattenLedgers(v, (h, at) => accountAt(h, accounts, at), path);
    const t = this.resolve(ty);
    if (t.kind === "record" && isObject(v)) {
      const out = {};
      for (const f of t.fields) {
        const key = snakeName(f.name);
        if (key !== "accounts") out[key] = this.to01(f.type, v[key], accounts, `${path}.${key}`);
      }
      return out;
    }
    if (t.kind === "list" && Array.isArray(v)) return v.map((e, i) => this.to01(t.element, e, accounts, `${path}[${i}]`));
    if (t.kind === "option") return v === null || v === undefined ? null : this.to01(t.payload, v, accounts, path);
    if (t.kind === "tuple" && Array.isArray(v)) return t.elements.map((e, i) => this.to01(e, v[i], accounts, `${path}[${i}]`));
    if (t.kind === "result" && isObject(v)) {
      if ("Ok" in v) return { Ok: t.ok === null ? v.Ok : this.to01(t.ok, v.Ok, accounts, `${path}.Ok`) };
      if ("Err" in v) return { Err: t.err === null ? v.Err : this.to01(t.err, v.Err, accounts, `${path}.Err`) };
    }
    if (t.kind === "variant" && isObject(v)) {
      const [key] = Object.keys(v);
      const c = t.cases.find((x) => camelName(x.name) === key);
      if (c?.type) return { [key]: this.to01(c.type, v[key], accounts, `${path}.${key}`) };
    }
    return v;
  }
}

/** `accounts[index]`, or `PolicyOutputError` for an index past the table. */
function accountAt(index, accounts, path) {
  const i = typeof index === "bigint" ? index : typeof index === "number" && Number.isInteger(index) ? BigInt(index) : null;
  if (i === null || i < 0n || i >= BigInt(accounts.length)) {
    throw new PolicyOutputError(
      "",
      "",
      path,
      `account ${typeof index === "bigint" ? index : JSON.stringify(index)} is past the input's table of ${accounts.length} account(s)`,
    );
  }
  return accounts[Number(i)];
}
