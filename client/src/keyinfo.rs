//! Lotus's key export format: a `KeyInfo` JSON object
//! (`{"Type":"secp256k1","PrivateKey":"<standard base64>"}`), which `lotus
//! wallet export` prints hex-encoded and `lotus wallet import` reads back.

use data_encoding::{BASE64, HEXLOWER_PERMISSIVE};
use serde::{Deserialize, Serialize};

use crate::keys::{Key, KeyError, KeyType};

#[derive(Debug, thiserror::Error)]
pub enum KeyInfoError {
    #[error("key text is not hex: {0}")]
    Hex(String),
    #[error("key is not a Lotus KeyInfo JSON object: {0}")]
    Json(String),
    #[error("key's PrivateKey is not standard base64: {0}")]
    Base64(String),
    #[error("unsupported key type {0:?} (secp256k1 and bls are supported)")]
    UnsupportedType(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The JSON object, field names as Lotus spells them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    #[serde(rename = "Type")]
    pub key_type: String,
    /// Standard base64 (with padding) of the private key bytes.
    #[serde(rename = "PrivateKey")]
    pub private_key: String,
}

impl std::fmt::Debug for KeyInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyInfo({})", self.key_type)
    }
}

impl KeyInfo {
    pub fn from_key(key: &Key) -> Self {
        Self {
            key_type: key.kind().name().to_string(),
            private_key: BASE64.encode(key.private_bytes()),
        }
    }

    pub fn to_key(&self) -> Result<Key, KeyInfoError> {
        let kind = match self.key_type.as_str() {
            "secp256k1" => KeyType::Secp256k1,
            "bls" => KeyType::Bls,
            other => return Err(KeyInfoError::UnsupportedType(other.to_string())),
        };
        let private = BASE64
            .decode(self.private_key.as_bytes())
            .map_err(|e| KeyInfoError::Base64(e.to_string()))?;
        Ok(Key::from_bytes(kind, &private)?)
    }

    /// The JSON text (`--format json-lotus`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("KeyInfo always serializes")
    }

    pub fn from_json(text: &str) -> Result<Self, KeyInfoError> {
        serde_json::from_str(text.trim()).map_err(|e| KeyInfoError::Json(e.to_string()))
    }

    /// Hex of the JSON bytes: what `lotus wallet export` prints.
    pub fn to_lotus_hex(&self) -> String {
        HEXLOWER_PERMISSIVE.encode(self.to_json().as_bytes())
    }

    pub fn from_lotus_hex(text: &str) -> Result<Self, KeyInfoError> {
        let bytes = HEXLOWER_PERMISSIVE
            .decode(text.trim().as_bytes())
            .map_err(|e| KeyInfoError::Hex(e.to_string()))?;
        let json = String::from_utf8(bytes).map_err(|e| KeyInfoError::Json(e.to_string()))?;
        Self::from_json(&json)
    }
}

/// Reads an exported key in either Lotus form: hex of the JSON (the default
/// export) or the JSON itself.
pub fn import(text: &str) -> Result<Key, KeyInfoError> {
    let text = text.trim();
    let info = if text.starts_with('{') {
        KeyInfo::from_json(text)?
    } else {
        KeyInfo::from_lotus_hex(text)?
    };
    info.to_key()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_is_hex_of_lotus_keyinfo_json() {
        let key = Key::from_bytes(KeyType::Secp256k1, &[1u8; 32]).unwrap();
        let info = KeyInfo::from_key(&key);
        let json = info.to_json();
        assert_eq!(
            json,
            r#"{"Type":"secp256k1","PrivateKey":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="}"#
        );
        let hex = info.to_lotus_hex();
        assert_eq!(hex, HEXLOWER_PERMISSIVE.encode(json.as_bytes()));
        assert_eq!(import(&hex).unwrap().address(), key.address());
        assert_eq!(import(&json).unwrap().address(), key.address());
    }

    #[test]
    fn bls_keys_round_trip() {
        let key = Key::generate(KeyType::Bls);
        let back = import(&KeyInfo::from_key(&key).to_lotus_hex()).unwrap();
        assert_eq!(back.address(), key.address());
        assert_eq!(back.kind(), KeyType::Bls);
    }

    #[test]
    fn rejects_malformed_exports() {
        assert!(matches!(import("zz"), Err(KeyInfoError::Hex(_))));
        assert!(matches!(import("7b7d"), Err(KeyInfoError::Json(_))));
        let delegated = r#"{"Type":"delegated","PrivateKey":"AQ=="}"#;
        assert!(matches!(
            import(delegated),
            Err(KeyInfoError::UnsupportedType(_))
        ));
        let bad_b64 = r#"{"Type":"secp256k1","PrivateKey":"not base64!"}"#;
        assert!(matches!(import(bad_b64), Err(KeyInfoError::Base64(_))));
        let zero = format!(
            r#"{{"Type":"secp256k1","PrivateKey":"{}"}}"#,
            BASE64.encode(&[0u8; 32])
        );
        assert!(matches!(import(&zero), Err(KeyInfoError::Key(_))));
    }
}
