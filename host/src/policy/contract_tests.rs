//! The adapter on its own: the account table's order, indices both ways, flat ledgers.

use super::*;

fn flow(hk: &str, ck: &str, counterparty: Option<&str>) -> Flow {
    Flow {
        block: 5,
        extrinsic: Some(1),
        event_index: 2,
        kind: FlowKind::AutoStaked,
        hotkey: hk.into(),
        coldkey: ck.into(),
        netuid: 1,
        alpha: 7,
        counterparty: counterparty.map(String::from),
    }
}

#[test]
fn the_table_is_sorted_by_utf8_bytes_and_deduplicated() {
    // UTF-16 order would put U+1F600 (a surrogate pair, 0xD83D...) before U+E000.
    let input = AttributionInput {
        netuid: 1,
        before_block: 1,
        after_block: 9,
        before: vec![Position {
            hotkey: "\u{1f600}".into(),
            coldkey: "b".into(),
            netuid: 1,
            alpha: 3,
        }],
        after: vec![],
        flows: vec![flow("\u{e000}", "", Some("b")), flow("a", "b", None)],
    };
    let v2 = attribution_input(&input);
    assert_eq!(v2.accounts, ["", "a", "b", "\u{e000}", "\u{1f600}"]);
    assert_eq!((v2.before[0].hotkey, v2.before[0].coldkey), (4, 2));
    assert_eq!((v2.flows[0].hotkey, v2.flows[0].coldkey), (3, 0));
    assert_eq!(v2.flows[0].counterparty, Some(2));
    assert_eq!(v2.flows[1].counterparty, None);
}

fn tranche(kind: TrancheKind, start: u64) -> Tranche {
    Tranche {
        kind,
        start,
        block: start + 1,
        amount: 10,
        remaining: 9,
        scheduled: 8,
        released: 3,
        sold_locked: 1,
    }
}

#[test]
fn ledgers_travel_flat_and_come_back_the_same() {
    let ledgers = vec![
        HolderLedger {
            holder: "z".into(),
            tranches: vec![
                tranche(TrancheKind::Manual, 0),
                tranche(TrancheKind::Earned, 7),
            ],
            unmatched_outflow: 4,
        },
        HolderLedger {
            holder: "a".into(),
            tranches: vec![],
            unmatched_outflow: 0,
        },
        HolderLedger {
            holder: "m".into(),
            tranches: vec![tranche(TrancheKind::Earned, 3)],
            unmatched_outflow: 0,
        },
    ];
    let v2 = ledger_input(&LedgerInput {
        netuid: 1,
        block: 10,
        ledgers: ledgers.clone(),
        earnings: vec![],
        flows: vec![],
    });
    assert_eq!(v2.accounts, ["a", "m", "z"]);
    assert_eq!(v2.ledgers.holders, [2, 0, 1]);
    assert_eq!(v2.ledgers.tranche_counts, [2, 0, 1]);
    assert_eq!(v2.ledgers.tranches.len(), 3 * 8);
    assert_eq!(&v2.ledgers.tranches[8..16], &[1, 7, 8, 10, 9, 8, 3, 1]);
    let back = ledger_output_back(
        v2::LedgerOutput {
            ledgers: v2.ledgers.clone(),
            releases: vec![],
            consumptions: vec![],
        },
        &v2.accounts,
    )
    .unwrap();
    assert_eq!(back.ledgers, ledgers);
}

#[test]
fn output_past_the_table_or_malformed_is_refused() {
    let accounts = vec![String::from("a")];
    let bad_index = holdings_back(
        vec![v2::Holding {
            holder: 1,
            total_stake: 0,
            earned_in_window: 0,
            held_in_window: 0,
            held_fraction: 0,
            holding_blocks: 0,
            holding_days: 0,
            vested: 0,
            locked: 0,
        }],
        &accounts,
    )
    .unwrap_err();
    assert!(
        bad_index.contains("account 1, past the input's account table (1 entries)"),
        "{bad_index}"
    );
    let flat = |counts: Vec<u32>, tranches: Vec<u64>| v2::LedgerOutput {
        ledgers: v2::Ledgers {
            holders: vec![0],
            unmatched_outflow: vec![0],
            tranche_counts: counts,
            tranches,
        },
        releases: vec![],
        consumptions: vec![],
    };
    let short = ledger_output_back(flat(vec![1], vec![0; 7]), &accounts).unwrap_err();
    assert!(
        short.contains("add up to 1 tranches but tranches holds 7"),
        "{short}"
    );
    let mut row = vec![0; 8];
    row[0] = 2;
    let kind = ledger_output_back(flat(vec![1], row), &accounts).unwrap_err();
    assert!(kind.contains("kind 2"), "{kind}");
    let lists = ledger_output_back(flat(vec![], vec![]), &accounts).unwrap_err();
    assert!(
        lists.contains("1 holders, 1 unmatched-outflow and 0 tranche-counts"),
        "{lists}"
    );
}

#[test]
fn contracts_are_named_by_info_export_and_import() {
    assert_eq!(
        Contract::of_name("bittensor:vesting@0.1.0"),
        Some(Contract::V0_1)
    );
    assert_eq!(Contract::of_name(CONTRACT), Some(Contract::NEWEST));
    assert_eq!(Contract::of_name("bittensor:vesting@0.3.0"), None);
    assert_eq!(Contract::V0_2.export(), "bittensor:vesting/policy@0.2.0");
    assert_eq!(
        Contract::V0_1.types_import(),
        "bittensor:vesting/types@0.1.0"
    );
}
