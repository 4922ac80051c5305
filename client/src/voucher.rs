//! Vouchers off chain: signing, checking a signature, and the text form Lotus
//! and Venus print and accept (URL-safe base64 of the signed CBOR, no padding).

use data_encoding::BASE64URL_NOPAD;
use fvm_shared::address::Address;
use paych_actor::SignedVoucher;

use crate::keys::{self, Key};

#[derive(Debug, thiserror::Error)]
pub enum VoucherError {
    #[error("voucher text is not URL-safe base64 without padding: {0}")]
    Base64(String),
    #[error("voucher bytes are not a CBOR SignedVoucher: {0}")]
    Cbor(String),
    #[error("voucher has no signature")]
    Unsigned,
}

/// Signs `voucher` with `key`, replacing any signature it had.
pub fn sign(voucher: &mut SignedVoucher, key: &Key) {
    voucher.signature = None;
    let bytes = voucher.signing_bytes().expect("vouchers always encode");
    voucher.signature = Some(key.sign(&bytes));
}

/// Whether the voucher carries `signer`'s valid signature.
pub fn is_signed_by(voucher: &SignedVoucher, signer: &Address) -> Result<bool, VoucherError> {
    let signature = voucher.signature.as_ref().ok_or(VoucherError::Unsigned)?;
    let bytes = voucher
        .signing_bytes()
        .map_err(|e| VoucherError::Cbor(e.to_string()))?;
    Ok(keys::verify(signature, signer, &bytes))
}

/// The Lotus text form of a voucher.
pub fn encode(voucher: &SignedVoucher) -> String {
    BASE64URL_NOPAD.encode(&fvm_ipld_encoding::to_vec(voucher).expect("vouchers always encode"))
}

/// Parses the Lotus text form. Surrounding whitespace is ignored.
pub fn decode(text: &str) -> Result<SignedVoucher, VoucherError> {
    let bytes = BASE64URL_NOPAD
        .decode(text.trim().as_bytes())
        .map_err(|e| VoucherError::Base64(e.to_string()))?;
    fvm_ipld_encoding::from_slice(&bytes).map_err(|e| VoucherError::Cbor(e.to_string()))
}
