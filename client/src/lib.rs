//! Off-chain payment channel logic shared by the harness and the CLI: keys
//! and signatures (secp256k1 and BLS, as Filecoin signs), vouchers with their
//! Lotus text form, addresses, FIL amounts as Lotus parses and prints them,
//! and Lotus's key export format.

pub mod address;
pub mod amount;
pub mod keyinfo;
pub mod keys;
pub mod voucher;

pub use keys::{Key, KeyType};
