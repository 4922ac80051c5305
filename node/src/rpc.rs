//! The method table a node serves: each method's name, permission, number of
//! parameters and handler; and dispatch of one parsed call against it, as
//! go-jsonrpc dispatches (count check, then permission, then the method, a
//! panic answered with code 0 instead of taking the node down).
//!
//! Handlers are synchronous: they run on a blocking thread, since the
//! manager and the devnet do SQLite and FVM work.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde_json::Value;

use crate::auth::Perm;
use crate::jsonrpc::{
    Call, FATAL, INVALID_PARAMS, METHOD_ERROR, METHOD_NOT_FOUND, PARSE_ERROR, RpcError, lotus_name,
};
use crate::lotus_json::FromLotus;

/// What a handler returns.
pub type RpcResult = Result<Value, RpcError>;

type Handler = Arc<dyn Fn(Params) -> RpcResult + Send + Sync>;

/// One served method.
#[derive(Clone)]
pub struct Method {
    pub perm: Perm,
    pub arity: usize,
    handler: Handler,
}

/// A method's positional parameters, decoded on demand; a parameter that
/// does not decode is go-jsonrpc's -32700.
pub struct Params {
    method: String,
    values: Vec<Value>,
    /// The caller's permissions, for methods whose need depends on the
    /// parameters.
    perms: Vec<Perm>,
}

impl Params {
    pub fn new(method: impl Into<String>, values: Vec<Value>) -> Self {
        Self {
            method: method.into(),
            values,
            perms: Vec::new(),
        }
    }

    pub fn perms(&self) -> &[Perm] {
        &self.perms
    }

    /// Parameter `i`, decoded.
    pub fn get<T: FromLotus>(&self, i: usize) -> Result<T, RpcError> {
        let value = self.values.get(i).unwrap_or(&Value::Null);
        T::from_lotus(value).map_err(|e| self.decode_error(i, e))
    }

    /// go-jsonrpc's error for parameter `i` that does not decode.
    pub fn decode_error(&self, i: usize, why: String) -> RpcError {
        RpcError::new(
            PARSE_ERROR,
            format!(
                "unmarshaling params for '{}' (param: {i}): {why}",
                self.method
            ),
        )
    }

    /// Parameter `i`, or `None` when it is null (a Go pointer or slice).
    pub fn opt<T: FromLotus>(&self, i: usize) -> Result<Option<T>, RpcError> {
        match self.values.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.get(i).map(Some),
        }
    }

    /// The raw values, for forwarding.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    pub fn values(&self) -> &[Value] {
        &self.values
    }
}

/// A node's methods, by their name without the `Filecoin.` prefix (other
/// namespaces keep theirs: `Devnet.Advance`).
#[derive(Clone, Default)]
pub struct Api {
    methods: BTreeMap<String, Method>,
    /// Methods that return a channel (WebSocket only): name to permission.
    channels: BTreeMap<String, Perm>,
}

impl Api {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `name` with `arity` parameters to callers holding `perm`.
    pub fn method(
        &mut self,
        name: &str,
        perm: Perm,
        arity: usize,
        handler: impl Fn(Params) -> RpcResult + Send + Sync + 'static,
    ) -> &mut Self {
        self.methods.insert(
            name.to_string(),
            Method {
                perm,
                arity,
                handler: Arc::new(handler),
            },
        );
        self
    }

    /// Declares a channel-returning method; the transport serves it.
    pub fn channel(&mut self, name: &str, perm: Perm) -> &mut Self {
        self.channels.insert(name.to_string(), perm);
        self
    }

    /// Serves `method` under `name` (a method taken from another table).
    pub fn insert(&mut self, name: &str, method: Method) -> &mut Self {
        self.methods.insert(name.to_string(), method);
        self
    }

    pub fn remove(&mut self, name: &str) -> &mut Self {
        self.methods.remove(name);
        self.channels.remove(name);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Method> {
        self.methods.get(name)
    }

    /// Every served name, with its permission, channels included.
    pub fn names(&self) -> Vec<(String, Perm)> {
        let mut names: Vec<(String, Perm)> = self
            .methods
            .iter()
            .map(|(n, m)| (n.clone(), m.perm))
            .chain(self.channels.iter().map(|(n, p)| (n.clone(), *p)))
            .collect();
        names.sort();
        names
    }

    /// The permission of a channel method, if `name` is one.
    pub fn channel_perm(&self, name: &str) -> Option<Perm> {
        self.channels.get(name).copied()
    }

    /// Runs one call as `perms` allow; the result to answer with.
    pub fn dispatch(&self, perms: &[Perm], call: &Call) -> RpcResult {
        let not_found = || {
            RpcError::new(
                METHOD_NOT_FOUND,
                format!("method '{}' not found", call.method),
            )
        };
        let name = method_key(&call.method).ok_or_else(not_found)?;
        if self.channels.contains_key(name) {
            return Err(RpcError::new(
                METHOD_NOT_FOUND,
                "not supported in this mode (no out channel support)",
            ));
        }
        let method = self.methods.get(name).ok_or_else(not_found)?;
        if call.params.len() != method.arity {
            return Err(RpcError::new(
                INVALID_PARAMS,
                format!(
                    "wrong param count (method '{}'): {} != {}",
                    call.method,
                    call.params.len(),
                    method.arity
                ),
            ));
        }
        require(perms, method.perm, name)?;
        let mut params = Params::new(call.method.clone(), call.params.clone());
        params.perms = perms.to_vec();
        let handler = method.handler.clone();
        match catch_unwind(AssertUnwindSafe(|| handler(params))) {
            Ok(result) => result,
            Err(panic) => {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                Err(RpcError::new(
                    FATAL,
                    format!(
                        "fatal error calling '{}': panic in rpc method: {why}",
                        call.method
                    ),
                ))
            }
        }
    }
}

/// The table key of a called name: Lotus names without `Filecoin.`, other
/// namespaces as called.
pub fn method_key(called: &str) -> Option<&str> {
    match lotus_name(called) {
        Some(name) => Some(name),
        None if called.contains('.') && !called.starts_with("xrpc.") => Some(called),
        None => None,
    }
}

/// Lotus's permission check: exact membership, no hierarchy.
pub fn require(perms: &[Perm], needed: Perm, name: &str) -> Result<(), RpcError> {
    if perms.contains(&needed) {
        Ok(())
    } else {
        Err(RpcError::new(
            METHOD_ERROR,
            format!(
                "missing permission to invoke '{name}' (need '{}')",
                needed.name()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api() -> Api {
        let mut api = Api::new();
        api.method("Echo", Perm::Read, 1, |p| Ok(p.values()[0].clone()))
            .method("Boom", Perm::Read, 0, |_| panic!("kaboom"))
            .method("Secret", Perm::Sign, 0, |_| Ok(json!(true)))
            .channel("ChainNotify", Perm::Read);
        api
    }

    fn call(method: &str, params: Vec<Value>) -> Call {
        Call {
            id: Some(json!(1)),
            method: method.into(),
            params,
        }
    }

    #[test]
    fn dispatch_checks_count_then_permission_and_survives_panics() {
        let api = api();
        let read = [Perm::Read];
        assert_eq!(
            api.dispatch(&read, &call("Filecoin.Echo", vec![json!(5)])),
            Ok(json!(5))
        );
        let err = api
            .dispatch(&read, &call("Filecoin.Echo", vec![]))
            .unwrap_err();
        assert_eq!(err.code, INVALID_PARAMS);
        assert_eq!(
            err.message,
            "wrong param count (method 'Filecoin.Echo'): 0 != 1"
        );
        let err = api
            .dispatch(&read, &call("Filecoin.Secret", vec![]))
            .unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (1, "missing permission to invoke 'Secret' (need 'sign')")
        );
        let err = api
            .dispatch(&[Perm::Admin], &call("Filecoin.Secret", vec![]))
            .unwrap_err();
        assert_eq!(err.code, 1, "no hierarchy: admin alone is not sign");
        let err = api
            .dispatch(&read, &call("Filecoin.Boom", vec![]))
            .unwrap_err();
        assert_eq!(err.code, FATAL);
        let err = api
            .dispatch(&read, &call("Filecoin.Nope", vec![]))
            .unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (METHOD_NOT_FOUND, "method 'Filecoin.Nope' not found")
        );
        let err = api
            .dispatch(&read, &call("Filecoin.ChainNotify", vec![]))
            .unwrap_err();
        assert_eq!(err.code, METHOD_NOT_FOUND);
        assert!(err.message.contains("no out channel support"));
    }
}
