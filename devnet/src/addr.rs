//! Addresses as the devnet prints them (`t` prefix) and reads them (`f` or
//! `t`).

use fvm_shared::address::Address;

use crate::error::{Error, Result};

/// The testnet (`t`) form the devnet prints.
pub fn show(addr: &Address) -> String {
    paych_client::address::testnet(addr)
}

/// Parses an address with either prefix; bad text is an input error.
pub fn parse(text: &str) -> Result<Address> {
    paych_client::address::parse(text.trim()).map_err(|e| Error::invalid(e.to_string()))
}
