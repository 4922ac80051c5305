//! Address text as users type it: `f` (mainnet) or `t` (testnet) prefix, any
//! protocol, canonical base32 and checksum enforced. ID addresses are limited
//! to 2^63-1, the largest actor ID Filecoin allows.

use fvm_shared::address::{Address, Network, Payload};

#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("invalid address {text:?}: {reason}")]
    Invalid { text: String, reason: String },
}

/// Parses an address with either network prefix.
pub fn parse(text: &str) -> Result<Address, AddressError> {
    let invalid = |reason: String| AddressError::Invalid {
        text: text.to_string(),
        reason,
    };
    let network = match text.as_bytes().first() {
        Some(b'f') => Network::Mainnet,
        Some(b't') => Network::Testnet,
        _ => return Err(invalid("addresses start with 'f' or 't'".into())),
    };
    let addr = network
        .parse_address(text)
        .map_err(|e| invalid(e.to_string()))?;
    if let Payload::ID(id) = addr.payload()
        && *id > i64::MAX as u64
    {
        return Err(invalid("ID out of range (max 2^63-1)".into()));
    }
    Ok(addr)
}

/// Formats an address with the given network's prefix.
pub fn format(addr: &Address, network: Network) -> String {
    // Display uses the process-wide network's one-letter prefix; swap it.
    let text = addr.to_string();
    let prefix = match network {
        Network::Mainnet => 'f',
        Network::Testnet => 't',
    };
    format!("{prefix}{}", &text[1..])
}

/// Formats with the testnet (`t`) prefix, as the devnet prints addresses.
pub fn testnet(addr: &Address) -> String {
    format(addr, Network::Testnet)
}
