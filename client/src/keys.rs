//! Private keys and signatures, as Filecoin uses them.
//!
//! - secp256k1: a 65-byte recoverable signature `r || s || v` (low-S, RFC
//!   6979) over blake2b-256 of the message; the address is f1 of the
//!   uncompressed public key.
//! - BLS: a 96-byte signature over the raw message; the address is f3 of the
//!   48-byte public key.

use actor_interfaces::blake2b_256;
use bls_signatures::Serialize as _;
use fvm_shared::address::{Address, Protocol};
use fvm_shared::crypto::signature::{Signature, SignatureType};
use k256::ecdsa::{RecoveryId, SigningKey, VerifyingKey};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Secp256k1,
    Bls,
}

impl KeyType {
    /// The name Lotus uses in KeyInfo and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Secp256k1 => "secp256k1",
            KeyType::Bls => "bls",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid {0} private key")]
    InvalidPrivateKey(&'static str),
}

/// A private key that can sign as a Filecoin account.
#[derive(Clone)]
pub struct Key {
    kind: KeyType,
    private: Vec<u8>,
    address: Address,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print private key material.
        write!(f, "Key({}, {})", self.kind.name(), self.address)
    }
}

impl Key {
    /// A new random key.
    pub fn generate(kind: KeyType) -> Self {
        let mut rng = rand_core::OsRng;
        match kind {
            KeyType::Secp256k1 => {
                let secret = SigningKey::random(&mut rng);
                Self::from_bytes(kind, &secret.to_bytes()).expect("a fresh key is valid")
            }
            KeyType::Bls => {
                let secret = bls_signatures::PrivateKey::generate(&mut rng);
                Self::from_bytes(kind, &secret.as_bytes()).expect("a fresh key is valid")
            }
        }
    }

    /// A deterministic key derived from `seed` (for tests and fixtures, so
    /// runs are reproducible). Never use it for real funds.
    pub fn from_seed(kind: KeyType, seed: &[u8]) -> Self {
        match kind {
            KeyType::Secp256k1 => {
                // Re-hash until the digest is a valid scalar (almost always once).
                let mut candidate = blake2b_256(seed);
                loop {
                    if let Ok(key) = Self::from_bytes(kind, &candidate) {
                        return key;
                    }
                    candidate = blake2b_256(&candidate);
                }
            }
            KeyType::Bls => {
                let secret = bls_signatures::PrivateKey::new(blake2b_256(seed));
                Self::from_bytes(kind, &secret.as_bytes()).expect("a derived key is valid")
            }
        }
    }

    /// A key from its private bytes (32 bytes for both types; BLS keys are
    /// little-endian scalars as Lotus stores them).
    pub fn from_bytes(kind: KeyType, private: &[u8]) -> Result<Self, KeyError> {
        let address = match kind {
            KeyType::Secp256k1 => {
                let secret = SigningKey::from_slice(private)
                    .map_err(|_| KeyError::InvalidPrivateKey("secp256k1"))?;
                let public = secret.verifying_key().to_encoded_point(false);
                Address::new_secp256k1(public.as_bytes())
                    .map_err(|_| KeyError::InvalidPrivateKey("secp256k1"))?
            }
            KeyType::Bls => {
                let secret = bls_signatures::PrivateKey::from_bytes(private)
                    .map_err(|_| KeyError::InvalidPrivateKey("bls"))?;
                Address::new_bls(&secret.public_key().as_bytes())
                    .map_err(|_| KeyError::InvalidPrivateKey("bls"))?
            }
        };
        Ok(Self {
            kind,
            private: private.to_vec(),
            address,
        })
    }

    pub fn kind(&self) -> KeyType {
        self.kind
    }

    /// The key (f1/f3) address.
    pub fn address(&self) -> Address {
        self.address
    }

    pub fn private_bytes(&self) -> &[u8] {
        &self.private
    }

    /// Signs `message` the way Filecoin accounts sign.
    pub fn sign(&self, message: &[u8]) -> Signature {
        match self.kind {
            KeyType::Secp256k1 => {
                let secret = SigningKey::from_slice(&self.private).expect("validated on creation");
                let digest = blake2b_256(message);
                let (sig, recovery) = secret
                    .sign_prehash_recoverable(&digest)
                    .expect("signing a 32-byte digest cannot fail");
                let mut bytes = sig.to_bytes().to_vec();
                bytes.push(recovery.to_byte());
                Signature {
                    sig_type: SignatureType::Secp256k1,
                    bytes,
                }
            }
            KeyType::Bls => {
                let secret =
                    bls_signatures::PrivateKey::from_bytes(&self.private).expect("validated");
                Signature {
                    sig_type: SignatureType::BLS,
                    bytes: secret.sign(message).as_bytes(),
                }
            }
        }
    }
}

/// Whether `signature` is `signer`'s over `message`, checked as the account
/// actor checks it: the key type comes from the address.
pub fn verify(signature: &Signature, signer: &Address, message: &[u8]) -> bool {
    match signer.protocol() {
        Protocol::Secp256k1 => recover_secp256k1(&signature.bytes, message)
            .is_some_and(|recovered| recovered == *signer),
        Protocol::BLS => {
            let (Ok(sig), Ok(public)) = (
                bls_signatures::Signature::from_bytes(&signature.bytes),
                bls_signatures::PublicKey::from_bytes(&signer.payload_bytes()),
            ) else {
                return false;
            };
            bls_signatures::verify_messages(&sig, &[message], &[public])
        }
        _ => false,
    }
}

/// The f1 address whose key made this 65-byte recoverable signature.
pub fn recover_secp256k1(signature: &[u8], message: &[u8]) -> Option<Address> {
    let [rs @ .., v] = signature else { return None };
    if rs.len() != 64 {
        return None;
    }
    let sig = k256::ecdsa::Signature::from_slice(rs).ok()?;
    let recovery = RecoveryId::from_byte(*v)?;
    let public = VerifyingKey::recover_from_prehash(&blake2b_256(message), &sig, recovery).ok()?;
    Address::new_secp256k1(public.to_encoded_point(false).as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secp256k1_signatures_verify_and_recover_the_signer() {
        let key = Key::generate(KeyType::Secp256k1);
        let sig = key.sign(b"hello");
        assert_eq!(sig.bytes.len(), 65);
        assert!(verify(&sig, &key.address(), b"hello"));
        assert!(!verify(&sig, &key.address(), b"hellO"));
        let other = Key::generate(KeyType::Secp256k1);
        assert!(!verify(&sig, &other.address(), b"hello"));
    }

    #[test]
    fn bls_signatures_verify() {
        let key = Key::generate(KeyType::Bls);
        assert_eq!(key.address().protocol(), Protocol::BLS);
        let sig = key.sign(b"hello");
        assert_eq!(sig.bytes.len(), 96);
        assert!(verify(&sig, &key.address(), b"hello"));
        assert!(!verify(&sig, &key.address(), b"other"));
        let restored = Key::from_bytes(KeyType::Bls, key.private_bytes()).unwrap();
        assert_eq!(restored.address(), key.address());
    }

    #[test]
    fn seeded_keys_are_deterministic_and_distinct() {
        for kind in [KeyType::Secp256k1, KeyType::Bls] {
            let a = Key::from_seed(kind, b"alice");
            assert_eq!(a.address(), Key::from_seed(kind, b"alice").address());
            assert_ne!(a.address(), Key::from_seed(kind, b"bob").address());
        }
    }

    #[test]
    fn invalid_private_keys_are_rejected() {
        assert!(Key::from_bytes(KeyType::Secp256k1, &[0u8; 32]).is_err());
        assert!(Key::from_bytes(KeyType::Secp256k1, &[1u8; 7]).is_err());
        assert!(Key::from_bytes(KeyType::Bls, &[1u8; 3]).is_err());
    }
}
