//! Lotus's API auth: JWTs signed with HS256 whose payload is
//! `{"Allow": [permissions]}`, no expiry. A token's permissions are checked
//! by exact membership; no token at all means `read` only. The secret is 32
//! random bytes kept in the repo (mode 0600).

use std::path::Path;

use data_encoding::BASE64URL_NOPAD;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// A permission, in Lotus's order: each issued token holds its level and
/// every level below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Perm {
    Read,
    Write,
    Sign,
    Admin,
}

impl Perm {
    pub const ALL: [Perm; 4] = [Perm::Read, Perm::Write, Perm::Sign, Perm::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Perm::Read => "read",
            Perm::Write => "write",
            Perm::Sign => "sign",
            Perm::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// What `auth create-token --perm P` issues: P and every level below.
    pub fn up_to(self) -> Vec<Perm> {
        Self::ALL.into_iter().filter(|p| *p <= self).collect()
    }
}

/// The permissions of a caller that sent no token.
pub const ANONYMOUS: &[Perm] = &[Perm::Read];

#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(rename = "Allow")]
    allow: Vec<String>,
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The HMAC secret tokens are signed with.
#[derive(Clone)]
pub struct Secret([u8; 32]);

impl Secret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The repo's secret, created (mode 0600) on first use.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
                .map(Self)
                .map_err(|_| {
                    std::io::Error::other(format!("{} is not a 32-byte secret", path.display()))
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = Self::generate();
                write_private(path, &secret.0)?;
                Ok(secret)
            }
            Err(e) => Err(e),
        }
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// A token allowing exactly `perms`.
    pub fn token(&self, perms: &[Perm]) -> String {
        let names: Vec<String> = perms.iter().map(|p| p.name().to_string()).collect();
        self.token_with_names(&names)
    }

    /// A token allowing `names` as given (Lotus's `AuthNew` does not check
    /// the list; names it does not know grant nothing).
    pub fn token_with_names(&self, names: &[String]) -> String {
        let payload = Payload {
            allow: names.to_vec(),
        };
        let signing_input = format!(
            "{}.{}",
            BASE64URL_NOPAD.encode(HEADER.as_bytes()),
            BASE64URL_NOPAD.encode(&serde_json::to_vec(&payload).expect("payload encodes"))
        );
        let signature = BASE64URL_NOPAD.encode(&self.mac(signing_input.as_bytes()));
        format!("{signing_input}.{signature}")
    }

    /// The permissions a token grants, if its signature is ours. Unknown
    /// permission names are ignored (they grant nothing).
    pub fn verify(&self, token: &str) -> Option<Vec<Perm>> {
        let mut parts = token.trim().split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let signature = BASE64URL_NOPAD.decode(signature.as_bytes()).ok()?;
        // Constant-time comparison, by the MAC's own verifier.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).ok()?;
        mac.update(format!("{header}.{payload}").as_bytes());
        mac.verify_slice(&signature).ok()?;
        let header: serde_json::Value =
            serde_json::from_slice(&BASE64URL_NOPAD.decode(header.as_bytes()).ok()?).ok()?;
        if header["alg"] != "HS256" {
            return None;
        }
        let payload: Payload =
            serde_json::from_slice(&BASE64URL_NOPAD.decode(payload.as_bytes()).ok()?).ok()?;
        Some(
            payload
                .allow
                .iter()
                .filter_map(|p| Perm::parse(p))
                .collect(),
        )
    }
}

/// Writes a file only its owner can read (the secret, tokens, the API
/// address).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_grant_what_they_were_issued_for_and_forgeries_nothing() {
        let secret = Secret::generate();
        let token = secret.token(&Perm::Sign.up_to());
        assert_eq!(
            secret.verify(&token),
            Some(vec![Perm::Read, Perm::Write, Perm::Sign])
        );
        assert_eq!(
            Secret::generate().verify(&token),
            None,
            "another node's secret"
        );
        let mut forged = token.clone();
        forged.push('x');
        assert_eq!(secret.verify(&forged), None);
        // A payload swapped for more permissions breaks the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let admin = BASE64URL_NOPAD.encode(br#"{"Allow":["read","write","sign","admin"]}"#);
        assert_eq!(
            secret.verify(&format!("{}.{admin}.{}", parts[0], parts[2])),
            None
        );
        assert_eq!(secret.verify("not.a.token"), None);
        assert_eq!(secret.verify(""), None);
    }

    #[test]
    fn the_header_and_payload_are_lotus_s() {
        let secret = Secret::generate();
        let token = secret.token(&[Perm::Read]);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(
            BASE64URL_NOPAD.decode(parts[0].as_bytes()).unwrap(),
            HEADER.as_bytes()
        );
        assert_eq!(
            BASE64URL_NOPAD.decode(parts[1].as_bytes()).unwrap(),
            br#"{"Allow":["read"]}"#
        );
    }
}
