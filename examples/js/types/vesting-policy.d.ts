// world bittensor:vesting/vesting-policy@0.2.0
export type * as BittensorVestingTypes020 from './interfaces/bittensor-vesting-types.js'; // import bittensor:vesting/types@0.2.0
export * as policy from './interfaces/bittensor-vesting-policy.js'; // export bittensor:vesting/policy@0.2.0
