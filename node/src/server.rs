//! The transport: JSON-RPC over HTTP POST and WebSocket on one listener, at
//! `/rpc/v1` and `/rpc/v0`, as a Lotus node serves it (axum and tokio do the
//! HTTP and WebSocket framing).
//!
//! - Auth: `Authorization: Bearer <jwt>`, else `?token=<jwt>`; no token
//!   means read-only; a token that does not verify (or a header without
//!   `Bearer `) gets HTTP 401 with an empty body.
//! - A body over the limit is -32700 "request bigger than maximum"; nothing
//!   a client sends stops the node serving others (each call runs on its own
//!   blocking thread, a panic is answered with code 0).
//! - Over WebSocket, channel methods (`ChainNotify`) answer with a channel id
//!   and stream `xrpc.ch.val` notifications; `xrpc.cancel` ends one with
//!   `xrpc.ch.close`; a client that goes away ends its streams.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::auth::{ANONYMOUS, Perm, Secret};
use crate::jsonrpc::{
    Call, INVALID_REQUEST, PARSE_ERROR, RpcError, notification, parse_call, response,
};
use crate::rpc::{Api, method_key, require};

/// go-jsonrpc's default request size limit.
pub const DEFAULT_MAX_REQUEST: usize = 100 << 20;

/// How much of a refused request's body is read so its connection can be
/// reused (Go's HTTP server reads up to 256 KiB).
const UNREAD_BODY_DRAIN: usize = 256 << 10;

/// The values a channel method streams: the first one (`current`) on
/// subscription, then every broadcast one.
pub trait Feed: Send + Sync {
    /// What a new subscriber gets first, and a receiver of what arrives
    /// afterwards, taken together: a value broadcast meanwhile is either
    /// already in the first one or in the receiver, never in both or
    /// neither.
    fn subscribe(&self) -> Result<(Value, broadcast::Receiver<Value>), RpcError>;
}

/// What the server serves.
pub struct Service {
    pub v1: Api,
    pub v0: Api,
    pub secret: Secret,
    /// `ChainNotify`'s head changes.
    pub heads: Arc<dyn Feed>,
    pub max_request: usize,
}

#[derive(Clone)]
struct Endpoint {
    api: Arc<Api>,
    shared: Arc<Shared>,
}

struct Shared {
    secret: Secret,
    heads: Arc<dyn Feed>,
    max_request: usize,
}

/// The router for a node's service.
pub fn router(service: Service) -> Router {
    let shared = Arc::new(Shared {
        secret: service.secret,
        heads: service.heads,
        max_request: service.max_request,
    });
    let v1 = Endpoint {
        api: Arc::new(service.v1),
        shared: shared.clone(),
    };
    let v0 = Endpoint {
        api: Arc::new(service.v0),
        shared,
    };
    Router::new()
        .route("/rpc/v1", any(serve).with_state(v1))
        .route("/rpc/v0", any(serve).with_state(v0))
        .route("/health/livez", any(|| async { "ok\n" }))
}

/// Serves `service` on `listener` until `shutdown` resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    service: Service,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(service).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn serve(State(endpoint): State<Endpoint>, request: Request) -> Response {
    let Some(perms) = permissions(&endpoint.shared.secret, &request) else {
        // Read what the client sent (up to a bound, as Go's server does)
        // before answering: a body left unread makes the connection close
        // after the answer, and a client reusing it fails its next request.
        let _ = axum::body::to_bytes(request.into_body(), UNREAD_BODY_DRAIN).await;
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if is_upgrade(request.headers()) {
        let max = endpoint.shared.max_request;
        return match WebSocketUpgrade::from_request(request, &()).await {
            Ok(upgrade) => upgrade
                .max_message_size(max)
                .on_upgrade(move |socket| websocket(socket, endpoint, perms)),
            Err(rejection) => rejection.into_response(),
        };
    }
    let body = match axum::body::to_bytes(request.into_body(), endpoint.shared.max_request).await {
        Ok(body) => body,
        Err(e) => {
            let too_big = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_default()
                .contains("length limit")
                || e.to_string().contains("length limit");
            let message = if too_big {
                format!(
                    "request bigger than maximum {} allowed",
                    endpoint.shared.max_request
                )
            } else {
                format!("reading request: {e}")
            };
            return reply(
                Some(response(None, Err(RpcError::new(PARSE_ERROR, message)))),
                500,
            );
        }
    };
    let (status, body) = handle_body(&endpoint.api, &perms, &body).await;
    reply(body, status)
}

fn reply(body: Option<Value>, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Some(body) => {
            let mut text = body.to_string();
            text.push('\n');
            (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
        }
        None => status.into_response(),
    }
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONNECTION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("upgrade"))
}

/// The caller's permissions, or `None` for a 401.
fn permissions(secret: &Secret, request: &Request<Body>) -> Option<Vec<Perm>> {
    let token = match request.headers().get(header::AUTHORIZATION) {
        Some(value) => {
            let value = value.to_str().ok()?;
            Some(value.strip_prefix("Bearer ")?.to_string())
        }
        None => request.uri().query().and_then(|query| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("token="))
                .map(str::to_string)
        }),
    };
    match token {
        None => Some(ANONYMOUS.to_vec()),
        Some(token) => secret.verify(&token),
    }
}

/// A request body: one call or a batch. The HTTP status and the body to
/// answer with (none when every call was a notification).
async fn handle_body(api: &Arc<Api>, perms: &[Perm], body: &[u8]) -> (u16, Option<Value>) {
    if body.iter().all(u8::is_ascii_whitespace) {
        let error = RpcError::new(INVALID_REQUEST, "Invalid request: empty body");
        return (400, Some(response(None, Err(error))));
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            let error = RpcError::new(PARSE_ERROR, format!("Parse error: {e}"));
            return (500, Some(response(None, Err(error))));
        }
    };
    match value {
        Value::Array(calls) if calls.is_empty() => {
            let error = RpcError::new(INVALID_REQUEST, "Invalid request: empty batch");
            (400, Some(response(None, Err(error))))
        }
        Value::Array(calls) => {
            let mut answers = Vec::new();
            for call in calls {
                if let Some((_, answer)) = handle_call(api, perms, call).await {
                    answers.push(answer);
                }
            }
            if answers.is_empty() {
                (200, None)
            } else {
                (200, Some(Value::Array(answers)))
            }
        }
        call => match handle_call(api, perms, call).await {
            Some((status, answer)) => (status, Some(answer)),
            None => (200, None),
        },
    }
}

/// One call; `None` for a notification.
async fn handle_call(api: &Arc<Api>, perms: &[Perm], value: Value) -> Option<(u16, Value)> {
    let call = match parse_call(value) {
        Ok(call) => call,
        Err((id, error)) => return Some((error.http_status(), response(id, Err(error)))),
    };
    let id = call.id.clone();
    let result = run_call(api.clone(), perms.to_vec(), call).await;
    let id = id?;
    let status = result
        .as_ref()
        .err()
        .map(RpcError::http_status)
        .unwrap_or(200);
    Some((status, response(Some(id), result)))
}

/// Runs a call on a blocking thread.
async fn run_call(api: Arc<Api>, perms: Vec<Perm>, call: Call) -> Result<Value, RpcError> {
    let method = call.method.clone();
    tokio::task::spawn_blocking(move || api.dispatch(&perms, &call))
        .await
        .unwrap_or_else(|e| {
            Err(RpcError::new(
                crate::jsonrpc::FATAL,
                format!("fatal error calling '{method}': {e}"),
            ))
        })
}

/// One WebSocket connection: calls run concurrently, answers and channel
/// values go out through one writer.
async fn websocket(socket: WebSocket, endpoint: Endpoint, perms: Vec<Perm>) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut outgoing) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        while let Some(value) = outgoing.recv().await {
            if sink
                .send(Message::Text(value.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    let connection = Arc::new(Connection {
        endpoint,
        perms,
        out,
        next_channel: AtomicU64::new(1),
        streams: Mutex::new(HashMap::new()),
    });
    while let Some(Ok(message)) = stream.next().await {
        let text = match message {
            Message::Text(text) => text.to_string(),
            Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Message::Close(_) => break,
            _ => continue,
        };
        let connection = connection.clone();
        tokio::spawn(async move { connection.handle(text).await });
    }
    // The client went away: its streams end with it.
    for (_, (_, task)) in connection.streams.lock().expect("streams lock").drain() {
        task.abort();
    }
    writer.abort();
}

struct Connection {
    endpoint: Endpoint,
    perms: Vec<Perm>,
    out: mpsc::UnboundedSender<Value>,
    next_channel: AtomicU64,
    /// Open streams by the id of the request that opened them.
    streams: Mutex<HashMap<String, (u64, tokio::task::AbortHandle)>>,
}

impl Connection {
    async fn handle(self: Arc<Self>, text: String) {
        let value: Value = match serde_json::from_str(&text) {
            Ok(value) => value,
            Err(e) => {
                let error = RpcError::new(PARSE_ERROR, format!("Parse error: {e}"));
                let _ = self.out.send(response(None, Err(error)));
                return;
            }
        };
        if value.get("method").and_then(Value::as_str) == Some("xrpc.cancel") {
            self.cancel(&value);
            return;
        }
        let channel = value
            .get("method")
            .and_then(Value::as_str)
            .and_then(method_key)
            .and_then(|name| self.endpoint.api.channel_perm(name).map(|p| (name, p)));
        if let Some((name, perm)) = channel {
            let name = name.to_string();
            self.open_stream(value, &name, perm);
            return;
        }
        let bytes = text.into_bytes();
        let (_, answer) = handle_body(&self.endpoint.api, &self.perms, &bytes).await;
        if let Some(answer) = answer {
            let _ = self.out.send(answer);
        }
    }

    /// A channel method: its id, then `current`, then every new value.
    fn open_stream(self: &Arc<Self>, value: Value, name: &str, perm: Perm) {
        let call = match parse_call(value) {
            Ok(call) => call,
            Err((id, error)) => {
                let _ = self.out.send(response(id, Err(error)));
                return;
            }
        };
        if !call.params.is_empty() {
            let error = RpcError::new(
                crate::jsonrpc::INVALID_PARAMS,
                format!(
                    "wrong param count (method '{}'): {} != 0",
                    call.method,
                    call.params.len()
                ),
            );
            let _ = self.out.send(response(call.id, Err(error)));
            return;
        }
        if let Err(error) = require(&self.perms, perm, name) {
            let _ = self.out.send(response(call.id, Err(error)));
            return;
        }
        let (current, mut updates) = match self.endpoint.shared.heads.subscribe() {
            Ok(subscribed) => subscribed,
            Err(error) => {
                let _ = self.out.send(response(call.id, Err(error)));
                return;
            }
        };
        let channel = self.next_channel.fetch_add(1, Ordering::Relaxed);
        let _ = self.out.send(response(call.id.clone(), Ok(json!(channel))));
        let out = self.out.clone();
        let task = tokio::spawn(async move {
            let send =
                |value: Value| out.send(notification("xrpc.ch.val", json!([channel, value])));
            if send(current).is_err() {
                return;
            }
            loop {
                match updates.recv().await {
                    Ok(value) => {
                        if send(value).is_err() {
                            return;
                        }
                    }
                    // A subscriber that fell behind skips what it missed.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => {
                        let _ = out.send(notification("xrpc.ch.close", json!([channel])));
                        return;
                    }
                }
            }
        });
        if let Some(id) = call.id {
            self.streams
                .lock()
                .expect("streams lock")
                .insert(id.to_string(), (channel, task.abort_handle()));
        }
    }

    /// `xrpc.cancel [requestId]`: ends the stream that request opened.
    fn cancel(&self, value: &Value) {
        let Some(id) = value.get("params").and_then(|p| p.get(0)) else {
            return;
        };
        let stream = self
            .streams
            .lock()
            .expect("streams lock")
            .remove(&id.to_string());
        if let Some((channel, task)) = stream {
            task.abort();
            let _ = self
                .out
                .send(notification("xrpc.ch.close", json!([channel])));
        }
    }
}
