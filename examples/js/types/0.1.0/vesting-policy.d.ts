// world bittensor:vesting/vesting-policy@0.1.0
export type * as BittensorVestingTypes010 from './interfaces/bittensor-vesting-types.js'; // import bittensor:vesting/types@0.1.0
export * as policy from './interfaces/bittensor-vesting-policy.js'; // export bittensor:vesting/policy@0.1.0
