//! Off-chain payment channel logic shared by the harness and the CLI: keys
//! and signatures (secp256k1 and BLS, as Filecoin signs), and vouchers with
//! their Lotus text form.

pub mod address;
pub mod keys;
pub mod voucher;

pub use keys::{Key, KeyType};
