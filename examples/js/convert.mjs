// Conversions between the vectors' JSON shape and jco's values, type by type, derived from
// the parsed WIT; a value that does not fit its type is a `PolicyInputError` naming where.

import { PolicyCallError, PolicyInputError } from "./errors.mjs";
import { stringifyJson } from "./json.mjs";
import { camelName, jcoName, snakeName } from "./wit.mjs";

// --------------------------------------------------- JSON shape <-> jco values

function describe(v) {
  let text;
  try {
    text = typeof v === "string" ? JSON.stringify(v) : stringifyJson(v, { sortKeys: false });
  } catch {
    text = String(v);
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  const kind = v === null ? "null" : Array.isArray(v) ? "list" : typeof v === "number" ? "float" : typeof v === "bigint" ? "integer" : typeof v;
  return `${kind} ${text}`;
}

const INTS = {
  u8: [0n, 255n],
  u16: [0n, 65535n],
  u32: [0n, 4294967295n],
  u64: [0n, 18446744073709551615n],
  s8: [-128n, 127n],
  s16: [-32768n, 32767n],
  s32: [-2147483648n, 2147483647n],
  s64: [-9223372036854775808n, 9223372036854775807n],
};

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** Converts and checks conversions between the JSON shape and jco's values, type by type. */
export class Converter {
  constructor(resolve) {
    this.resolve = resolve;
  }

  toJco(ty0, v, path) {
    const ty = this.resolve(ty0);
    const k = ty.kind;
    if (k === "bool") {
      if (typeof v !== "boolean") throw new PolicyInputError(path, `expected a bool, got ${describe(v)}`);
      return v;
    }
    if (k in INTS) {
      let n = v;
      if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
      if (typeof n !== "bigint") {
        throw new PolicyInputError(path, `expected an integer (${k}), got ${describe(v)}`);
      }
      const [lo, hi] = INTS[k];
      if (n < lo || n > hi) throw new PolicyInputError(path, `${n} is out of range for ${k} [${lo}, ${hi}]`);
      return k === "u64" || k === "s64" ? n : Number(n);
    }
    if (k === "f32" || k === "f64") {
      // Like serde_json, an integer is accepted for a float.
      if (typeof v === "bigint") return Number(v);
      if (typeof v !== "number") throw new PolicyInputError(path, `expected a number (${k}), got ${describe(v)}`);
      return v;
    }
    if (k === "char") {
      if (typeof v !== "string" || [...v].length !== 1) {
        throw new PolicyInputError(path, `expected a one-character string, got ${describe(v)}`);
      }
      return v;
    }
    if (k === "string") {
      if (typeof v !== "string") throw new PolicyInputError(path, `expected a string, got ${describe(v)}`);
      return v;
    }
    if (k === "list") {
      const el = this.resolve(ty.element);
      if (el.kind === "u8" && ArrayBuffer.isView(v)) return Uint8Array.from(v);
      if (!Array.isArray(v)) throw new PolicyInputError(path, `expected a list, got ${describe(v)}`);
      const items = v.map((e, i) => this.toJco(el, e, `${path}[${i}]`));
      return el.kind === "u8" ? Uint8Array.from(items) : items;
    }
    if (k === "record") {
      if (!isPlainObject(v)) throw new PolicyInputError(path, `expected a record (object), got ${describe(v)}`);
      const keys = new Set(ty.fields.map((f) => snakeName(f.name)));
      const unknown = Object.keys(v).filter((x) => !keys.has(x)).sort();
      if (unknown.length) {
        throw new PolicyInputError(path, `unknown field(s) ${unknown.join(", ")}; the fields are ${[...keys].join(", ")}`);
      }
      const out = {};
      for (const f of ty.fields) {
        const key = snakeName(f.name);
        let value;
        if (Object.hasOwn(v, key) && v[key] !== undefined) value = v[key];
        else if (this.resolve(f.type).kind === "option") value = null; // as serde: a missing option is none
        else throw new PolicyInputError(`${path}.${key}`, "missing field");
        out[jcoName(f.name)] = this.toJco(f.type, value, `${path}.${key}`);
      }
      return out;
    }
    if (k === "tuple") {
      if (!Array.isArray(v) || v.length !== ty.elements.length) {
        throw new PolicyInputError(path, `expected a list of ${ty.elements.length} items, got ${describe(v)}`);
      }
      return ty.elements.map((e, i) => this.toJco(e, v[i], `${path}[${i}]`));
    }
    if (k === "enum") {
      const name = typeof v === "string" ? ty.names.find((n) => camelName(n) === v) : undefined;
      if (name === undefined) {
        throw new PolicyInputError(path, `expected one of ${ty.names.map(camelName).join(", ")}, got ${describe(v)}`);
      }
      return name;
    }
    if (k === "variant") {
      // serde's externally tagged form: "Case" for a case without payload, {"Case": x}.
      const byJson = new Map(ty.cases.map((c) => [camelName(c.name), c]));
      if (typeof v === "string" && byJson.has(v)) {
        const c = byJson.get(v);
        if (c.type !== null) throw new PolicyInputError(path, `case ${v} needs a payload: {"${v}": ...}`);
        return { tag: c.name };
      }
      if (isPlainObject(v) && Object.keys(v).length === 1) {
        const [key] = Object.keys(v);
        const c = byJson.get(key);
        if (c !== undefined) {
          if (c.type === null) {
            if (v[key] !== null) throw new PolicyInputError(path, `case ${key} takes no payload`);
            return { tag: c.name };
          }
          return { tag: c.name, val: this.toJco(c.type, v[key], `${path}.${key}`) };
        }
      }
      throw new PolicyInputError(path, `expected one of ${[...byJson.keys()].join(", ")} as {"Case": value}, got ${describe(v)}`);
    }
    if (k === "option") {
      this.flatOption(ty, path);
      return v === null || v === undefined ? undefined : this.toJco(ty.payload, v, path);
    }
    if (k === "result") {
      if (isPlainObject(v) && Object.keys(v).length === 1) {
        const [key] = Object.keys(v);
        if (key === "Ok" || key === "Err") {
          const t = key === "Ok" ? ty.ok : ty.err;
          return { tag: key.toLowerCase(), val: t === null ? undefined : this.toJco(t, v[key], `${path}.${key}`) };
        }
      }
      throw new PolicyInputError(path, `expected {"Ok": ...} or {"Err": ...}, got ${describe(v)}`);
    }
    throw new PolicyInputError(path, `the contract uses a type this module does not convert: ${k}`);
  }

  flatOption(ty, path) {
    if (this.resolve(ty.payload).kind === "option") {
      throw new PolicyInputError(path, "nested options are not supported");
    }
  }

  fromJco(ty0, v, path) {
    const ty = this.resolve(ty0);
    const k = ty.kind;
    const bad = () => new PolicyCallError("", "", `${path}: jco returned ${describe(v)} for a ${k}`);
    if (k === "bool") {
      if (typeof v !== "boolean") throw bad();
      return v;
    }
    if (k in INTS) {
      if (typeof v === "bigint") return v;
      if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
      throw bad();
    }
    if (k === "f32" || k === "f64") {
      if (typeof v !== "number") throw bad();
      return v;
    }
    if (k === "char" || k === "string") {
      if (typeof v !== "string") throw bad();
      return v;
    }
    if (k === "list") {
      if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw bad();
      return Array.from(v, (e, i) => this.fromJco(ty.element, e, `${path}[${i}]`));
    }
    if (k === "record") {
      if (!isPlainObject(v)) throw bad();
      const out = {};
      for (const f of ty.fields) {
        const key = snakeName(f.name);
        out[key] = this.fromJco(f.type, v[jcoName(f.name)], `${path}.${key}`);
      }
      return out;
    }
    if (k === "tuple") {
      if (!Array.isArray(v)) throw bad();
      return ty.elements.map((e, i) => this.fromJco(e, v[i], `${path}[${i}]`));
    }
    if (k === "enum") {
      if (!ty.names.includes(v)) throw bad();
      return camelName(v);
    }
    if (k === "variant") {
      const c = isPlainObject(v) ? ty.cases.find((x) => x.name === v.tag) : undefined;
      if (c === undefined) throw bad();
      const key = camelName(c.name);
      return c.type === null ? key : { [key]: this.fromJco(c.type, v.val, `${path}.${key}`) };
    }
    if (k === "option") {
      this.flatOption(ty, path);
      return v === undefined || v === null ? null : this.fromJco(ty.payload, v, path);
    }
    if (k === "result") {
      if (!isPlainObject(v) || (v.tag !== "ok" && v.tag !== "err")) throw bad();
      const key = v.tag === "ok" ? "Ok" : "Err";
      const t = v.tag === "ok" ? ty.ok : ty.err;
      return { [key]: t === null ? null : this.fromJco(t, v.val, `${path}.${key}`) };
    }
    throw bad();
  }
}
