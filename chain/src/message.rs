//! Chain messages as Lotus builds them: the CID of the DAG-CBOR message is
//! what a key signs (secp256k1 over its blake2b-256, BLS over the raw bytes),
//! a signed message is the tuple `[message, signature]`, and inclusion gas is
//! charged on the length of what a block carries.

use cid::Cid;
use fvm_ipld_blockstore::Block;
use fvm_ipld_encoding::tuple::*;
use fvm_ipld_encoding::{DAG_CBOR, RawBytes};
use fvm_shared::MethodNum;
use fvm_shared::address::Address;
use fvm_shared::crypto::signature::{Signature, SignatureType};
use fvm_shared::econ::TokenAmount;
use fvm_shared::message::Message;
use multihash_codetable::Code;
use paych_client::Key;

use crate::config::BLOCK_GAS_LIMIT;

/// Lotus's `GasLimitOverestimation`: the estimate is scaled by 1.25.
pub const GAS_OVERESTIMATION_PERCENT: u64 = 125;
/// Lotus's message pool refuses larger messages.
pub const MAX_MESSAGE_SIZE: usize = 64 << 10;

/// A version-0 message at the block gas limit with no fees set yet (callers
/// set the gas limit and fee cap they want).
pub fn new_message(
    from: Address,
    to: Address,
    sequence: u64,
    method: MethodNum,
    params: RawBytes,
    value: TokenAmount,
) -> Message {
    Message {
        version: 0,
        from,
        to,
        sequence,
        value,
        method_num: method,
        params,
        gas_limit: BLOCK_GAS_LIMIT,
        gas_fee_cap: TokenAmount::default(),
        gas_premium: TokenAmount::default(),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize_tuple, Deserialize_tuple)]
pub struct SignedMessage {
    pub message: Message,
    pub signature: Signature,
}

/// The CID of an unsigned message: DAG-CBOR, blake2b-256.
pub fn message_cid(message: &Message) -> Cid {
    let bytes = fvm_ipld_encoding::to_vec(message).expect("messages always encode");
    Block::new(DAG_CBOR, bytes).cid(Code::Blake2b256)
}

impl SignedMessage {
    /// Signs the message's CID bytes with `key`, as Lotus's wallet does.
    pub fn sign(message: Message, key: &Key) -> Self {
        let signature = key.sign(&message_cid(&message).to_bytes());
        Self { message, signature }
    }

    /// The identifier Lotus uses: the unsigned message's CID for BLS (whose
    /// signatures are aggregated in blocks), the signed message's otherwise.
    pub fn cid(&self) -> Cid {
        match self.signature.sig_type {
            SignatureType::BLS => message_cid(&self.message),
            _ => Block::new(DAG_CBOR, self.to_bytes()).cid(Code::Blake2b256),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        fvm_ipld_encoding::to_vec(self).expect("signed messages always encode")
    }

    /// The size the message is charged inclusion gas for (Lotus's
    /// `ChainLength`): a secp256k1 message is carried signed, a BLS message
    /// alone (its signature is aggregated into the block).
    pub fn chain_length(&self) -> usize {
        match self.signature.sig_type {
            SignatureType::BLS => fvm_ipld_encoding::to_vec(&self.message)
                .map(|b| b.len())
                .unwrap_or(0),
            _ => self.to_bytes().len(),
        }
    }

    /// Whether the signature is `signer`'s over this message's CID.
    pub fn is_signed_by(&self, signer: &fvm_shared::address::Address) -> bool {
        paych_client::keys::verify(
            &self.signature,
            signer,
            &message_cid(&self.message).to_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fvm_shared::address::Address;
    use fvm_shared::econ::TokenAmount;
    use paych_client::KeyType;

    fn message(from: Address) -> Message {
        Message {
            version: 0,
            from,
            to: Address::new_id(1),
            sequence: 3,
            value: TokenAmount::from_whole(1),
            method_num: 0,
            params: Default::default(),
            gas_limit: 1_000_000,
            gas_fee_cap: TokenAmount::from_atto(100),
            gas_premium: TokenAmount::default(),
        }
    }

    #[test]
    fn secp_messages_are_signed_over_the_cid_and_named_by_the_signed_cid() {
        let key = Key::generate(KeyType::Secp256k1);
        let signed = SignedMessage::sign(message(key.address()), &key);
        assert!(signed.is_signed_by(&key.address()));
        assert_ne!(signed.cid(), message_cid(&signed.message));
        assert_eq!(signed.chain_length(), signed.to_bytes().len());

        let mut tampered = signed.clone();
        tampered.message.value = TokenAmount::from_whole(2);
        assert!(!tampered.is_signed_by(&key.address()));
        let other = Key::generate(KeyType::Secp256k1);
        assert!(!signed.is_signed_by(&other.address()));
    }

    #[test]
    fn bls_messages_are_named_by_the_unsigned_cid() {
        let key = Key::generate(KeyType::Bls);
        let signed = SignedMessage::sign(message(key.address()), &key);
        assert!(signed.is_signed_by(&key.address()));
        assert_eq!(signed.cid(), message_cid(&signed.message));
    }

    #[test]
    fn signed_messages_round_trip_through_cbor() {
        let key = Key::generate(KeyType::Secp256k1);
        let signed = SignedMessage::sign(message(key.address()), &key);
        let back: SignedMessage = fvm_ipld_encoding::from_slice(&signed.to_bytes()).unwrap();
        assert_eq!(back, signed);
    }
}
