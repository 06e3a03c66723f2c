/** @module Interface bittensor:vesting/policy@0.1.0 **/
/**
 * Name, version, contract and the parameter schema with defaults.
 */
export function info(): PolicyInfo;
/**
 * The parameters the policy would use: defaults filled in, every value checked.
 */
export function resolveParams(params: Array<Param>): Array<Param>;
/**
 * Split each position's change across an epoch into earned, manual and residue.
 */
export function attribute(params: Array<Param>, input: AttributionInput): Array<PositionAttribution>;
/**
 * Advance holders' ledgers: new earnings, manual inflows, outflows, vesting payments.
 */
export function ledgerStep(params: Array<Param>, input: LedgerInput): LedgerOutput;
/**
 * Holding metrics per holder.
 */
export function holdings(params: Array<Param>, input: HoldingsInput): Array<Holding>;
/**
 * One multiplier per miner.
 */
export function multipliers(params: Array<Param>, input: MultipliersInput): Array<MinerMultiplier>;
/**
 * The validator's weights times the multipliers, normalised, and the u16 chain vector.
 */
export function applyWeights(params: Array<Param>, input: WeightsInput): WeightsOutput;
export type Param = import('./bittensor-vesting-types.js').Param;
export type PolicyInfo = import('./bittensor-vesting-types.js').PolicyInfo;
export type PolicyError = import('./bittensor-vesting-types.js').PolicyError;
export type AttributionInput = import('./bittensor-vesting-types.js').AttributionInput;
export type PositionAttribution = import('./bittensor-vesting-types.js').PositionAttribution;
export type LedgerInput = import('./bittensor-vesting-types.js').LedgerInput;
export type LedgerOutput = import('./bittensor-vesting-types.js').LedgerOutput;
export type HoldingsInput = import('./bittensor-vesting-types.js').HoldingsInput;
export type Holding = import('./bittensor-vesting-types.js').Holding;
export type MultipliersInput = import('./bittensor-vesting-types.js').MultipliersInput;
export type MinerMultiplier = import('./bittensor-vesting-types.js').MinerMultiplier;
export type WeightsInput = import('./bittensor-vesting-types.js').WeightsInput;
export type WeightsOutput = import('./bittensor-vesting-types.js').WeightsOutput;
