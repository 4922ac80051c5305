//! The Lotus-compatible node: `paych daemon`.
//!
//! - [`jsonrpc`]: JSON-RPC 2.0 as go-jsonrpc speaks it;
//! - [`auth`]: Lotus's JWT permissions;
//! - [`lotus_json`]: Lotus's JSON shapes, apart from the internal types;
//! - [`client`]: the client the command line and the lite node call with.

pub mod api;
pub mod auth;
pub mod chain_json;
pub mod client;
pub mod daemon;
pub mod full;
pub mod jsonrpc;
pub mod lite;
pub mod lotus_json;
pub mod rpc;
pub mod server;
