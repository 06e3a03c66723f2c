/** @module Interface bittensor:vesting/types@0.2.0 **/
/**
 * Fixed point with 9 decimals: 1_000_000_000 is 1.0.
 */
export type Fixed = bigint;
/**
 * An account (hotkey or coldkey): an index into the input's `accounts`.
 */
export type Account = number;
/**
 * Why a call was refused. A policy returns these instead of trapping.
 * # Variants
 * 
 * ## `"invalid-parameter"`
 * 
 * A parameter is unknown, of the wrong kind, or out of range.
 * ## `"invalid-input"`
 * 
 * An input is inconsistent (duplicate holder, position on the wrong subnet, ...).
 * ## `"length-mismatch"`
 * 
 * Lists that must have one entry per uid have different lengths.
 * ## `"duplicate-uid"`
 * 
 * The same uid appears twice.
 * ## `"invalid-weight"`
 * 
 * A weight is negative, NaN or infinite.
 * ## `"overflow"`
 * 
 * A result does not fit its type.
 */
export type ErrorCode = 'invalid-parameter' | 'invalid-input' | 'length-mismatch' | 'duplicate-uid' | 'invalid-weight' | 'overflow';
export interface PolicyError {
  code: ErrorCode,
  /**
   * Names what is wrong, for a human.
   */
  message: string,
}
/**
 * A parameter's value. Which variant a parameter takes is in its `param-spec`.
 */
export type ParamValue = ParamValueAmount | ParamValueFixed | ParamValueCount | ParamValueFlag | ParamValueChoice;
/**
 * An amount in rao (1e-9 TAO or alpha).
 */
export interface ParamValueAmount {
  tag: 'amount',
  val: bigint,
}
/**
 * A fraction or ratio, fixed point with 9 decimals.
 */
export interface ParamValueFixed {
  tag: 'fixed',
  val: bigint,
}
/**
 * A whole number (days, blocks, counts).
 */
export interface ParamValueCount {
  tag: 'count',
  val: bigint,
}
export interface ParamValueFlag {
  tag: 'flag',
  val: boolean,
}
/**
 * One of the spec's `choices`.
 */
export interface ParamValueChoice {
  tag: 'choice',
  val: string,
}
export interface Param {
  name: string,
  value: ParamValue,
}
export interface ParamSpec {
  name: string,
  description: string,
  defaultValue: ParamValue,
  /**
   * Inclusive bounds for amount, fixed and count parameters.
   */
  min?: bigint,
  max?: bigint,
  /**
   * The allowed values of a choice parameter.
   */
  choices: Array<string>,
}
export interface PolicyInfo {
  name: string,
  version: string,
  /**
   * The contract this policy implements, e.g. "bittensor:vesting@0.2.0".
   */
  contract: string,
  description: string,
  params: Array<ParamSpec>,
}
/**
 * A coldkey's alpha on (hotkey, netuid) at one block.
 */
export interface Position {
  hotkey: Account,
  coldkey: Account,
  netuid: number,
  alpha: bigint,
}
/**
 * What moved alpha into or out of a position, as the chain's events say.
 * # Variants
 * 
 * ## `"added"`
 * 
 * `StakeAdded` of an add_stake call.
 * ## `"removed"`
 * 
 * `StakeRemoved` of a remove_stake / unstake_all call.
 * ## `"moved-in"`
 * 
 * `StakeAdded` / `StakeRemoved` inside a move_stake extrinsic.
 * ## `"moved-out"`
 * 
 * ## `"transferred-in"`
 * 
 * `StakeAdded` / `StakeRemoved` inside a transfer_stake extrinsic.
 * ## `"transferred-out"`
 * 
 * ## `"swapped-in"`
 * 
 * `StakeAdded` / `StakeRemoved` inside a swap_stake extrinsic.
 * ## `"swapped-out"`
 * 
 * ## `"alpha-fee"`
 * 
 * `TransactionFeePaidWithAlpha`: alpha taken as a fee. Hosts name the hotkey of
 * the `StakeRemoved` the fee was sold with (same extrinsic); a fee with an empty
 * hotkey is charged to the coldkey's unexplained decreases.
 * ## `"recycled"`
 * 
 * `AlphaRecycled` / `AlphaBurned`.
 * ## `"burned"`
 * 
 * ## `"incentive"`
 * 
 * A miner's incentive at an epoch (`IncentiveAlphaEmittedToMiners`, by uid),
 * credited to (miner hotkey, owner coldkey).
 * ## `"auto-staked"`
 * 
 * `AutoStakeAdded`: the incentive went to `hotkey` (the destination) instead;
 * `counterparty` is the miner hotkey it came from.
 * ## `"dividend"`
 * 
 * Validator dividends grew `hotkey`'s pool pro rata (coldkey is empty).
 * ## `"root-claimed"`
 * 
 * `RootClaimed` (a "Keep" claim, spec < 441): a credit whose amount the event does
 * not carry (alpha is 0). With an empty hotkey it explains any gain of the
 * coldkey's positions in the window as earned; with a hotkey, that position's.
 */
export type FlowKind = 'added' | 'removed' | 'moved-in' | 'moved-out' | 'transferred-in' | 'transferred-out' | 'swapped-in' | 'swapped-out' | 'alpha-fee' | 'recycled' | 'burned' | 'incentive' | 'auto-staked' | 'dividend' | 'root-claimed';
export interface Flow {
  block: bigint,
  /**
   * Index of the extrinsic in the block; none for the block's initialization.
   */
  extrinsic?: number,
  /**
   * Index of the event in the block's `System.Events`.
   */
  eventIndex: number,
  kind: FlowKind,
  /**
   * The empty account for an alpha fee whose hotkey is unknown and a root claim of
   * every hotkey of the coldkey.
   */
  hotkey: Account,
  /**
   * The empty account when the event names no coldkey (dividend).
   */
  coldkey: Account,
  netuid: number,
  /**
   * The alpha amount (never the TAO one).
   */
  alpha: bigint,
  /**
   * The other side: the other hotkey of a move, the other coldkey of a transfer,
   * the miner hotkey of an auto-stake.
   */
  counterparty?: Account,
}
export interface AttributionInput {
  /**
   * Every account the positions and flows name (see the package's documentation).
   */
  accounts: Array<string>,
  /**
   * The subnet being tracked; positions and flows of other subnets are ignored.
   */
  netuid: number,
  /**
   * Positions are read at `before-block` and `after-block`; flows with a block in
   * (before-block, after-block] explain the difference.
   */
  beforeBlock: bigint,
  afterBlock: bigint,
  before: Array<Position>,
  after: Array<Position>,
  flows: Array<Flow>,
}
/**
 * One position's change across an epoch, split by cause.
 */
export interface PositionAttribution {
  hotkey: Account,
  coldkey: Account,
  netuid: number,
  before: bigint,
  after: bigint,
  /**
   * Alpha the events say came in or went out by hand (stake calls, fees, burns).
   */
  manualIn: bigint,
  manualOut: bigint,
  /**
   * Alpha earned by emission: never more than emission explains.
   */
  earned: bigint,
  /**
   * What neither manual flows nor emission explain:
   * after - before - manual-in + manual-out - earned.
   */
  residue: bigint,
}
/**
 * Every holder's ledger: its tranches, oldest first, each a slice of the holder's stake
 * with its history. Four lists, flat, so that a ledger crosses the boundary as a few
 * copies of integers:
 * 
 * - ledger `i` belongs to `holders[i]` (a holder appears once; outputs list them
 *   ascending), has
 *   `unmatched-outflow[i]` and the next `tranche-counts[i]` tranches of `tranches`;
 * - a tranche is 8 consecutive `u64` of `tranches`, in this order:
 *   0. kind: 0 manual (stake put in by hand, or held before tracking began), 1 earned
 *      (stake earned by emission; it vests on a schedule);
 *   1. start: first block of the bucket this tranche collects; its vesting schedule
 *      starts here;
 *   2. block: amount-weighted mean block at which its alpha came in (its age);
 *   3. amount: alpha credited to it in total;
 *   4. remaining: alpha of it still held;
 *   5. scheduled: the part of `amount` on the vesting schedule (the rest vested at
 *      once);
 *   6. released: alpha released (vested) so far;
 *   7. sold-locked: alpha consumed by outflows while still locked (not released).
 * 
 * The three per-holder lists have the same length, the counts add up to
 * `len(tranches) / 8`, and any other shape is `length-mismatch`.
 */
export interface Ledgers {
  /**
   * The coldkey (or hotkey, when the policy tracks holders per hotkey) of each ledger.
   */
  holders: Uint32Array,
  /**
   * Outflows larger than the whole ledger: alpha the ledger could not match.
   */
  unmatchedOutflow: BigUint64Array,
  trancheCounts: Uint32Array,
  tranches: BigUint64Array,
}
/**
 * Earnings of one position at one block (from `attribute`).
 */
export interface Earning {
  hotkey: Account,
  coldkey: Account,
  block: bigint,
  alpha: bigint,
}
export interface LedgerInput {
  /**
   * Every account the ledgers, earnings and flows name.
   */
  accounts: Array<string>,
  netuid: number,
  /**
   * Apply everything up to and including this block.
   */
  block: bigint,
  /**
   * The holders' ledgers as the last step returned them.
   */
  ledgers: Ledgers,
  earnings: Array<Earning>,
  /**
   * Manual flows since the last step (earning kinds are ignored here).
   */
  flows: Array<Flow>,
}
/**
 * One vesting payment: alpha of an earned tranche that became free.
 */
export interface Release {
  holder: Account,
  /**
   * The tranche's `start`.
   */
  trancheStart: bigint,
  /**
   * The block the payment fell due.
   */
  block: bigint,
  alpha: bigint,
}
/**
 * How one outflow was matched against a holder's tranches.
 */
export interface Consumption {
  holder: Account,
  block: bigint,
  alpha: bigint,
  fromManual: bigint,
  /**
   * From earned stake that had vested.
   */
  fromReleased: bigint,
  /**
   * From earned stake still locked: the part that counts as selling early.
   */
  fromLocked: bigint,
  /**
   * More than the ledger held.
   */
  unmatched: bigint,
}
export interface LedgerOutput {
  /**
   * Every holder's updated ledger, sorted by holder.
   */
  ledgers: Ledgers,
  releases: Array<Release>,
  consumptions: Array<Consumption>,
}
export interface HoldingsInput {
  /**
   * Every account the ledgers name.
   */
  accounts: Array<string>,
  block: bigint,
  ledgers: Ledgers,
}
/**
 * How much and how long one holder holds.
 */
export interface Holding {
  holder: Account,
  /**
   * Alpha the ledger holds (manual and earned).
   */
  totalStake: bigint,
  /**
   * Earned in the retention window.
   */
  earnedInWindow: bigint,
  /**
   * Of that, what counts as held.
   */
  heldInWindow: bigint,
  /**
   * held-in-window / earned-in-window (1.0 when nothing was earned).
   */
  heldFraction: Fixed,
  /**
   * Remaining-weighted mean age of earned stake, each tranche capped at the window.
   */
  holdingBlocks: bigint,
  holdingDays: Fixed,
  /**
   * Earned stake still held that has vested / is still locked.
   */
  vested: bigint,
  locked: bigint,
}
export interface Miner {
  uid: number,
  hotkey: Account,
  coldkey: Account,
}
export interface MultipliersInput {
  /**
   * Every account the holdings and miners name.
   */
  accounts: Array<string>,
  block: bigint,
  holdings: Array<Holding>,
  miners: Array<Miner>,
}
export interface MinerMultiplier {
  uid: number,
  hotkey: Account,
  holder: Account,
  /**
   * In [0, max_multiplier]; 0 below minimum_stake.
   */
  multiplier: Fixed,
  /**
   * The factors of the formula, for explanation.
   */
  heldFactor: Fixed,
  durationFactor: Fixed,
  /**
   * False when the holder is under minimum_stake.
   */
  eligible: boolean,
}
export interface WeightsInput {
  /**
   * Every account the hotkeys and multipliers name.
   */
  accounts: Array<string>,
  /**
   * The validator's weights by uid: three lists of equal length.
   */
  uids: Uint16Array,
  weights: Float64Array,
  hotkeys: Uint32Array,
  /**
   * The latest multipliers, by uid (a uid whose hotkey changed does not match).
   */
  multipliers: Array<MinerMultiplier>,
}
export interface WeightsOutput {
  /**
   * The input uids, in input order.
   */
  uids: Uint16Array,
  /**
   * Adjusted weights, fixed point; they sum to exactly 1.0 unless all are zero.
   */
  weights: BigUint64Array,
  /**
   * The multiplier applied to each uid.
   */
  multipliers: BigUint64Array,
  /**
   * What `set_weights` puts on chain: non-zero weights scaled so the largest is 65535.
   */
  chainUids: Uint16Array,
  chainWeights: Uint16Array,
}
