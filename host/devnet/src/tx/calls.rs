//! A decoded `RuntimeCall` (a `scale_value::Value` decoded with the metadata's call
//! type) as the model's `Action`, by the argument order `pallet_subtensor` declares
//! (`pallets/subtensor/src/macros/dispatches.rs`; the same order `crate::extrinsic`
//! encodes scripted actions with). A call the model does not know is refused by name.

use scale_value::{Composite, Value, ValueDef};

use crate::model::{AccountId, Action, ChainState};

/// The pallet, call name and positional arguments of a `RuntimeCall` value.
pub fn call_parts(call: &Value<u32>) -> Option<(String, String, Vec<Value<u32>>)> {
    let ValueDef::Variant(p) = &call.value else {
        return None;
    };
    let inner = p.values.values().next()?;
    let ValueDef::Variant(c) = &inner.value else {
        return None;
    };
    Some((
        p.name.clone(),
        c.name.clone(),
        c.values.values().cloned().collect(),
    ))
}

/// The bytes of a `[u8; N]` value (or a newtype around one, as `AccountId32`).
pub fn bytes_of(v: &Value<u32>) -> Option<Vec<u8>> {
    match &v.value {
        ValueDef::Composite(c) => {
            let vals: Vec<&Value<u32>> = c.values().collect();
            if vals.len() == 1
                && matches!(&vals[0].value, ValueDef::Composite(_))
                && let Some(b) = bytes_of(vals[0])
            {
                return Some(b);
            }
            vals.iter()
                .map(|x| x.as_u128().and_then(|n| u8::try_from(n).ok()))
                .collect()
        }
        _ => None,
    }
}

fn account(v: &Value<u32>) -> Option<AccountId> {
    bytes_of(v)?.try_into().ok()
}

fn uint(v: &Value<u32>) -> Option<u64> {
    if let Some(n) = v.as_u128() {
        return u64::try_from(n).ok();
    }
    // A newtype around a number (`NetUid(u16)`, `AlphaBalance(u64)`, a `{ netuid }`).
    match &v.value {
        ValueDef::Composite(Composite::Unnamed(x)) if x.len() == 1 => uint(&x[0]),
        ValueDef::Composite(Composite::Named(x)) if x.len() == 1 => uint(&x[0].1),
        _ => None,
    }
}

/// A `Vec<u16>` value.
fn u16s(v: &Value<u32>) -> Option<Vec<u16>> {
    match &v.value {
        ValueDef::Composite(c) => c
            .values()
            .map(|x| uint(x).and_then(|n| u16::try_from(n).ok()))
            .collect(),
        _ => None,
    }
}

fn netuid(v: &Value<u32>) -> Option<u16> {
    uint(v).and_then(|n| u16::try_from(n).ok())
}

/// The `Action` a signed call from `coldkey` stands for, checked against the limit
/// prices of the `_limit` forms with the model's fixed prices; Err names what is not
/// modelled or what the call lacks.
pub fn call_action(
    st: &ChainState,
    coldkey: AccountId,
    call: &Value<u32>,
) -> Result<Action, String> {
    let (pallet, name, a) = call_parts(call).ok_or("the call is not a pallet call")?;
    let bad = || format!("{pallet}::{name}: arguments not as the devnet expects");
    if pallet != "SubtensorModule" {
        return Err(format!("{pallet}::{name} is not modelled by the devnet"));
    }
    let acc = |i: usize| a.get(i).and_then(account).ok_or_else(bad);
    let net = |i: usize| a.get(i).and_then(netuid).ok_or_else(bad);
    let n = |i: usize| a.get(i).and_then(uint).ok_or_else(bad);
    let price = |netuid: u16| st.subnet(netuid).map(|s| s.price_rao).unwrap_or(0);
    // `Error::<T>::SlippageTooHigh`: the fixed price already breaks the limit (with
    // fixed prices a limit allows all of the amount or nothing).
    let slippage = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{pallet}::{name}: SlippageTooHigh (the subnet's fixed price is past limit_price)"
            ))
        }
    };
    Ok(match name.as_str() {
        "add_stake" | "add_stake_limit" => {
            let (hotkey, netuid, tao) = (acc(0)?, net(1)?, n(2)?);
            if name == "add_stake_limit" {
                slippage(price(netuid) <= n(3)?)?;
            }
            Action::AddStake {
                coldkey,
                hotkey,
                netuid,
                tao,
            }
        }
        "remove_stake" | "remove_stake_limit" => {
            let (hotkey, netuid, alpha) = (acc(0)?, net(1)?, n(2)?);
            if name == "remove_stake_limit" {
                slippage(price(netuid) >= n(3)?)?;
            }
            Action::RemoveStake {
                coldkey,
                hotkey,
                netuid,
                alpha,
                alpha_fee: 0,
            }
        }
        "unstake_all" => Action::UnstakeAll {
            coldkey,
            hotkey: acc(0)?,
        },
        "move_stake" => Action::MoveStake {
            coldkey,
            origin_hotkey: acc(0)?,
            dest_hotkey: acc(1)?,
            origin_netuid: net(2)?,
            dest_netuid: net(3)?,
            alpha: n(4)?,
        },
        "move_stake_limit" => Action::MoveStakeLimit {
            coldkey,
            origin_hotkey: acc(0)?,
            dest_hotkey: acc(1)?,
            origin_netuid: net(2)?,
            dest_netuid: net(3)?,
            alpha: n(4)?,
            limit_price: n(5)?,
            allow_partial: a.get(6).and_then(Value::as_bool).ok_or_else(bad)?,
        },
        "transfer_stake" => Action::TransferStake {
            coldkey,
            dest_coldkey: acc(0)?,
            hotkey: acc(1)?,
            origin_netuid: net(2)?,
            dest_netuid: net(3)?,
            alpha: n(4)?,
        },
        "swap_stake" | "swap_stake_limit" => {
            let (hotkey, origin_netuid, dest_netuid, alpha) = (acc(0)?, net(1)?, net(2)?, n(3)?);
            if name == "swap_stake_limit" {
                // Origin alpha's price in destination alpha, x 1e9.
                let (po, pd) = (price(origin_netuid) as u128, price(dest_netuid) as u128);
                let ratio = (po * 1_000_000_000).checked_div(pd).unwrap_or(u128::MAX);
                slippage(ratio >= n(4)? as u128)?;
            }
            Action::SwapStake {
                coldkey,
                hotkey,
                origin_netuid,
                dest_netuid,
                alpha,
            }
        }
        "recycle_alpha" => Action::RecycleAlpha {
            coldkey,
            hotkey: acc(0)?,
            alpha: n(1)?,
            netuid: net(2)?,
        },
        "burn_alpha" => Action::BurnAlpha {
            coldkey,
            hotkey: acc(0)?,
            alpha: n(1)?,
            netuid: net(2)?,
        },
        "burned_register" => Action::Register {
            coldkey,
            netuid: net(0)?,
            hotkey: acc(1)?,
            uid: None,
        },
        "set_coldkey_auto_stake_hotkey" => Action::SetAutoStake {
            coldkey,
            netuid: net(0)?,
            hotkey: acc(1)?,
        },
        "transfer_stake_and_hotkey" => Action::TransferStakeAndHotkey {
            coldkey,
            dest_coldkey: acc(0)?,
            origin_hotkey: acc(1)?,
            dest_hotkey: acc(2)?,
            origin_netuid: net(3)?,
            dest_netuid: net(4)?,
            alpha: n(5)?,
        },
        "add_collateral" => Action::AddCollateral {
            coldkey,
            netuid: net(0)?,
            hotkey: acc(1)?,
            alpha: n(2)?,
            limit_price: n(3)?,
        },
        "set_min_collateral" => Action::SetMinCollateral {
            coldkey,
            netuid: net(0)?,
            hotkey: acc(1)?,
            min_locked: n(2)?,
        },
        // Signed by the hotkey (`do_set_weights`): `coldkey` here is the signer.
        "set_weights" => Action::SetWeights {
            hotkey: coldkey,
            netuid: net(0)?,
            dests: a.get(1).and_then(u16s).ok_or_else(bad)?,
            weights: a.get(2).and_then(u16s).ok_or_else(bad)?,
            version_key: n(3)?,
        },
        // `do_set_mechanism_weights(origin, netuid, mecid, ..)` is `internal_set_weights`
        // for one mechanism (`subnets/weights.rs`; mechanism 0's storage index is the
        // netuid): mechanism 0 is `set_weights` (what the bittensor SDK's `SetWeights`
        // intent sends). `ensure_mechanism_exists` refuses a mechanism the subnet lacks
        // (`MechanismDoesNotExist`); weights of mechanisms 1.. are not modelled.
        "set_mechanism_weights" => {
            let (netuid, mecid) = (net(0)?, n(1)?);
            // A missing subnet falls through to the model's `SubNetworkDoesNotExist`.
            if mecid != 0
                && let Ok(s) = st.subnet(netuid)
            {
                let count = s.mechanisms.max(1);
                return Err(if mecid >= u64::from(count) {
                    format!(
                        "{pallet}::{name}: SubtensorModule::MechanismDoesNotExist (netuid \
                         {netuid} has {count} mechanism(s), no mechanism {mecid})"
                    )
                } else {
                    format!(
                        "{pallet}::{name} for mechanism {mecid} is not modelled by the devnet \
                         (only mechanism 0's weights)"
                    )
                });
            }
            Action::SetWeights {
                hotkey: coldkey,
                netuid,
                dests: a.get(2).and_then(u16s).ok_or_else(bad)?,
                weights: a.get(3).and_then(u16s).ok_or_else(bad)?,
                version_key: n(4)?,
            }
        }
        // Commit-reveal is off on every devnet subnet (`crate::model::weights`): the
        // runtime's `do_commit_weights` / `do_reveal_weights` refuse at their step 2.
        "commit_weights"
        | "batch_commit_weights"
        | "reveal_weights"
        | "batch_reveal_weights"
        | "commit_crv3_weights"
        | "commit_timelocked_weights"
        | "commit_mechanism_weights"
        | "reveal_mechanism_weights"
        | "commit_crv3_mechanism_weights"
        | "commit_timelocked_mechanism_weights" => {
            return Err(format!(
                "{pallet}::{name}: SubtensorModule::CommitRevealDisabled (commit-reveal is off \
                 on devnet subnets: use set_weights)"
            ));
        }
        _ => return Err(format!("{pallet}::{name} is not modelled by the devnet")),
    })
}
