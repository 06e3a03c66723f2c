// The errors a policy call can raise (shared by the WIT reader, the converter and the
// policy host in `vesting_policy.mjs`).

// ---------------------------------------------------------------------------- errors

/** The policy refused the call with its typed error (`policy-error`). `code` is the
 * CamelCase error code (`"DuplicateUid"`), `message` the policy's explanation. */
export class PolicyError extends Error {
  constructor(code, message, policy = "", fn = "") {
    super(`policy \`${policy}\` refused \`${fn}\` (${code}): ${message}`);
    this.name = "PolicyError";
    this.code = code;
    this.policyMessage = message;
    this.policy = policy;
    this.function = fn;
  }
}

/** A call failed outright: a trap, or output that breaks the contract. */
export class PolicyCallError extends Error {
  constructor(policy, fn, failure) {
    super(`policy \`${policy}\` failed in \`${fn}\`: ${failure}`);
    this.name = "PolicyCallError";
    this.policy = policy;
    this.function = fn;
    this.failure = failure;
  }
}

/** The policy returned output that breaks the contract: an account index past the call's
 * account table, ledgers whose lists do not add up, weights that break the invariants.
 * `path` names where (`result.Ok.ledgers.holders[2]`), `problem` what is wrong. */
export class PolicyOutputError extends PolicyCallError {
  constructor(policy, fn, path, problem) {
    super(policy, fn, `returned invalid output: ${path ? `${path}: ` : ""}${problem}`);
    this.name = "PolicyOutputError";
    this.path = path;
    this.problem = problem;
  }
}

/** The file is not a usable policy component (or the WIT cannot be read). */
export class PolicyLoadError extends Error {
  constructor(message) {
    super(message);
    this.name = "PolicyLoadError";
  }
}

/** A value handed to the policy does not fit the contract's type; `path` names it
 * (`input.flows[2].kind`). */
export class PolicyInputError extends Error {
  constructor(path, problem) {
    super(`${path}: ${problem}`);
    this.name = "PolicyInputError";
    this.path = path;
    this.problem = problem;
  }
}
