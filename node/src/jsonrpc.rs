//! JSON-RPC 2.0 as go-jsonrpc (Lotus's RPC library) speaks it: positional
//! params whose count must match, `Filecoin.`-prefixed method names, method
//! errors with code 1 (or a registered code) on HTTP 200, protocol errors
//! with their own codes and HTTP statuses, batches, notifications, and the
//! channel protocol of WebSocket subscriptions (`xrpc.ch.val`,
//! `xrpc.ch.close`, `xrpc.cancel`).

use serde_json::{Map, Value, json};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
/// Any error a method returns, unless its type is registered.
pub const METHOD_ERROR: i64 = 1;
/// A panic inside a method.
pub const FATAL: i64 = 0;
/// Lotus's registered error for an absent actor (`StateLookupID`).
pub const ACTOR_NOT_FOUND: i64 = 11;

/// The prefix of every Lotus method name.
pub const NAMESPACE: &str = "Filecoin.";

/// A JSON-RPC error.
#[derive(Clone, Debug, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// An error a method returned.
    pub fn method(message: impl Into<String>) -> Self {
        Self::new(METHOD_ERROR, message)
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The HTTP status go-jsonrpc answers this error with.
    pub fn http_status(&self) -> u16 {
        match self.code {
            INVALID_REQUEST => 400,
            PARSE_ERROR | METHOD_NOT_FOUND | INVALID_PARAMS | FATAL => 500,
            _ => 200,
        }
    }

    fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        if let Some(data) = &self.data {
            error.insert("data".into(), data.clone());
        }
        Value::Object(error)
    }
}

/// One call, as parsed from a request object.
#[derive(Clone, Debug)]
pub struct Call {
    /// `None` for a notification, which gets no response.
    pub id: Option<Value>,
    pub method: String,
    pub params: Vec<Value>,
}

/// Parses one request object. On failure, the id (if any could be read)
/// and the error to answer with.
pub fn parse_call(value: Value) -> Result<Call, (Option<Value>, RpcError)> {
    let Value::Object(mut object) = value else {
        return Err((
            None,
            RpcError::new(INVALID_REQUEST, "request is not an object"),
        ));
    };
    let id = match object.remove("id") {
        None => None,
        Some(id @ (Value::Number(_) | Value::String(_) | Value::Null)) => Some(id),
        Some(_) => {
            return Err((
                None,
                RpcError::new(INVALID_REQUEST, "id must be a number or a string"),
            ));
        }
    };
    let method = match object.remove("method") {
        Some(Value::String(method)) => method,
        _ => {
            return Err((
                id,
                RpcError::new(INVALID_REQUEST, "request has no method name"),
            ));
        }
    };
    let params = match object.remove("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(params)) => params,
        Some(_) => {
            return Err((
                id,
                RpcError::new(PARSE_ERROR, "params must be an array (positional)"),
            ));
        }
    };
    Ok(Call { id, method, params })
}

/// The response to a call.
pub fn response(id: Option<Value>, result: Result<Value, RpcError>) -> Value {
    let id = id.unwrap_or(Value::Null);
    match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(error) => json!({ "jsonrpc": "2.0", "id": id, "error": error.to_json() }),
    }
}

/// A server-sent notification (a channel's value or its end).
pub fn notification(method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "method": method, "params": params })
}

/// The Lotus name of a method called as `name` (`Filecoin.X`, or the
/// `rpc.discover` alias), without the namespace.
pub fn lotus_name(name: &str) -> Option<&str> {
    if name == "rpc.discover" {
        return Some("Discover");
    }
    name.strip_prefix(NAMESPACE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_as_go_jsonrpc_accepts_them() {
        let call =
            parse_call(json!({"jsonrpc": "2.0", "method": "Filecoin.Version", "id": 1})).unwrap();
        assert!(call.params.is_empty(), "params may be missing");
        assert_eq!(call.id, Some(json!(1)));
        let call = parse_call(json!({"method": "Filecoin.X", "params": null, "id": "a"})).unwrap();
        assert_eq!(call.id, Some(json!("a")));
        let note = parse_call(json!({"method": "Filecoin.X", "params": []})).unwrap();
        assert_eq!(note.id, None, "no id: a notification");
        let (_, err) = parse_call(json!({"id": 1})).unwrap_err();
        assert_eq!(err.code, INVALID_REQUEST);
        let (_, err) =
            parse_call(json!({"id": 1, "method": "Filecoin.X", "params": {"a": 1}})).unwrap_err();
        assert_eq!(err.code, PARSE_ERROR);
        assert_eq!(lotus_name("rpc.discover"), Some("Discover"));
        assert_eq!(lotus_name("Filecoin.ChainHead"), Some("ChainHead"));
        assert_eq!(lotus_name("eth_chainId"), None);
    }

    #[test]
    fn errors_answer_with_go_jsonrpc_s_statuses() {
        assert_eq!(RpcError::new(PARSE_ERROR, "").http_status(), 500);
        assert_eq!(RpcError::new(INVALID_REQUEST, "").http_status(), 400);
        assert_eq!(RpcError::new(METHOD_NOT_FOUND, "").http_status(), 500);
        assert_eq!(RpcError::method("no").http_status(), 200);
        assert_eq!(RpcError::new(ACTOR_NOT_FOUND, "").http_status(), 200);
        let body = response(Some(json!(0)), Err(RpcError::method("boom")));
        assert_eq!(
            body,
            json!({"jsonrpc": "2.0", "id": 0, "error": {"code": 1, "message": "boom"}})
        );
        assert!(body.get("result").is_none());
    }
}
