//! A blocking JSON-RPC client for a Lotus-compatible node: what the `paych`
//! command line uses to talk to a daemon, and what a lite node uses to talk
//! to its full node. HTTP POST, `Authorization: Bearer`, go-jsonrpc's
//! conventions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::jsonrpc::{METHOD_ERROR, NAMESPACE, RpcError};

/// Where a node listens and the token to call it with: `FULLNODE_API_INFO`'s
/// `TOKEN:MULTIADDR` (or a bare address, for read-only access).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiInfo {
    pub token: Option<String>,
    /// `http://host:port`.
    pub url: String,
}

impl ApiInfo {
    /// Parses `TOKEN:/ip4/127.0.0.1/tcp/1234/http`, a bare multiaddr, or a
    /// bare `http://host:port` URL, splitting as Lotus does: at the first
    /// `:`, unless the text starts with `/` or what follows the colon starts
    /// with `//`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (token, address) = match text.split_once(':') {
            Some((token, rest)) if !text.starts_with('/') && !rest.starts_with("//") => {
                (Some(token.to_string()), rest)
            }
            _ => (None, text),
        };
        Ok(Self {
            token,
            url: base_url(address)?,
        })
    }

    /// `TOKEN:MULTIADDR`, as `FULLNODE_API_INFO` holds it.
    pub fn to_env(&self) -> String {
        let address = multiaddr(&self.url);
        match &self.token {
            Some(token) => format!("{token}:{address}"),
            None => address,
        }
    }
}

/// `http://host:port` from a multiaddr (`/ip4/H/tcp/P/http`, `/dns/...`) or
/// a URL.
pub fn base_url(address: &str) -> Result<String, String> {
    if let Some(rest) = address
        .strip_prefix("http://")
        .or(address.strip_prefix("ws://"))
    {
        return Ok(format!("http://{}", rest.trim_end_matches('/')));
    }
    let parts: Vec<&str> = address.split('/').collect();
    match parts.as_slice() {
        ["", "ip4" | "dns" | "dns4", host, "tcp", port, ..]
        | ["", "ip6", host, "tcp", port, ..] => {
            let host = if parts[1] == "ip6" {
                format!("[{host}]")
            } else {
                host.to_string()
            };
            port.parse::<u16>()
                .map_err(|_| format!("invalid port in {address:?}"))?;
            Ok(format!("http://{host}:{port}"))
        }
        _ => Err(format!(
            "{address:?} is not an API address (a multiaddr like /ip4/127.0.0.1/tcp/1234/http, or http://host:port)"
        )),
    }
}

/// The multiaddr of `http://host:port`.
pub fn multiaddr(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    match rest.rsplit_once(':') {
        Some((host, port)) => format!("/ip4/{host}/tcp/{port}/http"),
        None => url.to_string(),
    }
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// The node answered with a JSON-RPC error.
    Rpc(RpcError),
    /// The node could not be reached or answered something else.
    Transport(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Rpc(e) => write!(f, "{}", e.message),
            CallError::Transport(e) => write!(f, "{e}"),
        }
    }
}

/// A client of one node, at one API version.
pub struct Client {
    info: ApiInfo,
    agent: ureq::Agent,
    endpoint: String,
    next_id: AtomicU64,
}

impl Client {
    pub fn new(info: ApiInfo) -> Self {
        Self::with_timeout(info, Duration::from_secs(600))
    }

    pub fn with_timeout(info: ApiInfo, timeout: Duration) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(timeout)
            .build();
        let endpoint = format!("{}/rpc/v1", info.url);
        Self {
            info,
            agent,
            endpoint,
            next_id: AtomicU64::new(1),
        }
    }

    pub fn info(&self) -> &ApiInfo {
        &self.info
    }

    /// Calls `Filecoin.<method>` (or a method outside that namespace, given
    /// with its dot) with positional `params`.
    pub fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, CallError> {
        let name = if method.contains('.') {
            method.to_string()
        } else {
            format!("{NAMESPACE}{method}")
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request = json!({ "jsonrpc": "2.0", "id": id, "method": name, "params": params });
        let mut http = self.agent.post(&self.endpoint);
        if let Some(token) = &self.info.token {
            http = http.set("Authorization", &format!("Bearer {token}"));
        }
        let body: Value = match http.send_json(request) {
            Ok(response) => response
                .into_json()
                .map_err(|e| CallError::Transport(format!("{name}: unreadable response: {e}")))?,
            // go-jsonrpc answers protocol errors with HTTP 500 and a JSON body.
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                match serde_json::from_str(&text) {
                    Ok(body) => body,
                    Err(_) if status == 401 => {
                        return Err(CallError::Transport(format!(
                            "{name}: the node refused the token (HTTP 401)"
                        )));
                    }
                    Err(_) => {
                        return Err(CallError::Transport(format!(
                            "{name}: HTTP {status} {text}"
                        )));
                    }
                }
            }
            Err(e) => {
                return Err(CallError::Transport(format!(
                    "cannot reach the node at {}: {e}",
                    self.info.url
                )));
            }
        };
        if let Some(error) = body.get("error") {
            return Err(CallError::Rpc(RpcError {
                code: error["code"].as_i64().unwrap_or(METHOD_ERROR),
                message: error["message"].as_str().unwrap_or_default().to_string(),
                data: error.get("data").cloned(),
            }));
        }
        Ok(body.get("result").cloned().unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_info_splits_as_lotus_does() {
        let info = ApiInfo::parse("eyJ.abc.def:/ip4/127.0.0.1/tcp/1234/http").unwrap();
        assert_eq!(info.token.as_deref(), Some("eyJ.abc.def"));
        assert_eq!(info.url, "http://127.0.0.1:1234");
        assert_eq!(info.to_env(), "eyJ.abc.def:/ip4/127.0.0.1/tcp/1234/http");
        let bare = ApiInfo::parse("/ip4/127.0.0.1/tcp/9/http").unwrap();
        assert_eq!(bare.token, None);
        let url = ApiInfo::parse("http://127.0.0.1:5678").unwrap();
        assert_eq!(
            (url.token, url.url.as_str()),
            (None, "http://127.0.0.1:5678")
        );
        let both = ApiInfo::parse("tok:http://127.0.0.1:5678").unwrap();
        assert_eq!(both.token.as_deref(), Some("tok"));
        assert!(ApiInfo::parse("tok:nowhere").is_err());
    }
}
