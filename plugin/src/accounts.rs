//! The account table of a call's input: the contract names every account once, in
//! `accounts`, sorted by bytes, and records refer to them by index. This module checks the
//! table and the indices, and names accounts in error messages.
//!
//! Because the table is sorted, comparing two indices compares the two strings, so the
//! policy orders accounts as integers and still gets the strings' order.

use crate::error;
use crate::types::{ErrorCode, PolicyError};
use alloc::format;
use alloc::string::String;

/// A checked account table.
#[derive(Clone, Copy)]
pub struct Accounts<'a> {
    names: &'a [String],
}

impl<'a> Accounts<'a> {
    /// Checks that `names` is strictly ascending by bytes (sorted, no duplicates).
    pub fn new(names: &'a [String]) -> Result<Self, PolicyError> {
        if names.len() > u32::MAX as usize {
            return Err(invalid(format!(
                "the account table has {} entries; at most {} fit an index",
                names.len(),
                u32::MAX
            )));
        }
        if let Some(i) =
            (1..names.len()).find(|&i| !before(names[i - 1].as_bytes(), names[i].as_bytes()))
        {
            return Err(invalid(format!(
                "the account table must be sorted by bytes with no duplicates: \
                 entry {} (`{}`) is not after entry {} (`{}`)",
                i,
                names[i],
                i - 1,
                names[i - 1]
            )));
        }
        Ok(Accounts { names })
    }

    /// The table, unchecked: for inputs a caller already checked (tests, native hosts).
    pub fn trusted(names: &'a [String]) -> Self {
        Accounts { names }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The index of the empty string, the account that stands for "none".
    pub fn none(&self) -> Option<u32> {
        self.names
            .first()
            .is_some_and(|n| n.is_empty())
            .then_some(0)
    }

    /// Whether `account` is the empty string.
    pub fn is_none(&self, account: u32) -> bool {
        account == 0 && self.none().is_some()
    }

    /// An account's name for a message (`#i` when the index is past the table).
    pub fn name(&self, account: u32) -> &'a str {
        self.names
            .get(account as usize)
            .map_or("<unknown account>", String::as_str)
    }

    /// Checks that `account` is an index into the table; `what` names the field.
    pub fn check(&self, account: u32, what: &str) -> Result<(), PolicyError> {
        if (account as usize) < self.names.len() {
            Ok(())
        } else {
            Err(invalid(format!(
                "{what} is account {account}, past the end of the account table ({} entries)",
                self.names.len()
            )))
        }
    }
}

/// `a < b` by bytes (what `<` on the slices says), skipping the common prefix eight bytes
/// at a time: a byte-by-byte comparison is slow on wasm32.
fn before(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let word = |s: &[u8]| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
        if word(a) != word(b) {
            break;
        }
        i += 8;
    }
    a[i..] < b[i..]
}

fn invalid(message: String) -> PolicyError {
    error(ErrorCode::InvalidInput, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn names(v: &[&str]) -> alloc::vec::Vec<String> {
        v.iter().map(|s| String::from(*s)).collect()
    }

    #[test]
    fn a_sorted_table_is_accepted_and_the_empty_account_is_found() {
        let t = names(&["", "5Abc", "5b", "\u{e000}", "\u{1f600}"]);
        let a = Accounts::new(&t).unwrap();
        assert_eq!(a.none(), Some(0));
        assert!(a.is_none(0) && !a.is_none(1));
        assert_eq!(a.name(2), "5b");
        assert!(a.check(4, "x").is_ok());
        let e = a.check(5, "position 3's hotkey").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(
            e.message.contains("position 3's hotkey is account 5"),
            "{}",
            e.message
        );
        let no_empty = names(&["a"]);
        assert_eq!(Accounts::new(&no_empty).unwrap().none(), None);
    }

    #[test]
    fn before_is_the_slices_order() {
        let words: [&[u8]; 12] = [
            b"",
            b"5Hotkey0001",
            b"5Hotkey0002",
            b"5Hotkey00",
            b"5Hotkey0",
            b"5Hotkey",
            b"5Coldkey0000",
            b"5Coldkey00000000xyz",
            b"5Coldkey00000000xy",
            b"5Coldkey00000001",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\x00",
            b"\xff\xff\xff\xff\xff\xff\xff\xfe\xff",
        ];
        for a in words {
            for b in words {
                assert_eq!(before(a, b), a < b, "{a:?} < {b:?}");
            }
        }
    }

    #[test]
    fn unsorted_or_duplicate_tables_are_refused_naming_the_entry() {
        for bad in [
            vec!["b", "a"],
            vec!["a", "a"],
            vec!["\u{1f600}", "\u{e000}"],
        ] {
            let t = names(&bad);
            let e = Accounts::new(&t).err().expect("refused");
            assert_eq!(e.code, ErrorCode::InvalidInput);
            assert!(e.message.contains("entry 1"), "{}", e.message);
        }
    }
}
