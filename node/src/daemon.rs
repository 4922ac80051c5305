//! Running a node over a repository: the repository's daemon files, the
//! listener, and the node's background work, until Ctrl-C or SIGTERM.
//!
//! In the repository, as Lotus keeps them:
//! - `daemon.lock`: held exclusively while a daemon runs (commands hold it
//!   shared while they use the repository directly, so neither ever runs
//!   under the other);
//! - `api`: the daemon's multiaddr, removed when it stops;
//! - `token`: an admin token (0600);
//! - `jwt-secret`: the key tokens are signed with (0600).

use std::fs::{File, OpenOptions, TryLockError};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::api::{self, Node};
use crate::auth::{Perm, Secret, write_private};
use crate::client::{ApiInfo, multiaddr};
use crate::rpc::Api;
use crate::server::{self, DEFAULT_MAX_REQUEST, Feed, Service};

pub const LOCK_FILE: &str = "daemon.lock";
pub const API_FILE: &str = "api";
pub const TOKEN_FILE: &str = "token";
pub const SECRET_FILE: &str = "jwt-secret";

/// How a daemon serves.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub max_request: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 1234)),
            max_request: DEFAULT_MAX_REQUEST,
        }
    }
}

/// The repository's daemon lock, held for as long as this value lives.
pub struct RepoLock {
    _file: Option<File>,
}

fn lock_file(dir: &Path) -> std::io::Result<File> {
    std::fs::create_dir_all(dir)?;
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
}

/// Takes the repository for a daemon; refuses if one already runs there,
/// and waits for commands using it directly to finish.
pub fn lock_for_daemon(dir: &Path) -> Result<RepoLock, String> {
    let file = lock_file(dir).map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(RepoLock { _file: Some(file) }),
        Err(TryLockError::WouldBlock) => {
            if running_daemon(dir).is_some() {
                return Err(format!(
                    "a daemon is already running on the repo at {}",
                    dir.display()
                ));
            }
            eprintln!("waiting for commands using the repo to finish...");
            file.lock()
                .map_err(|e| format!("cannot lock {}: {e}", dir.display()))?;
            Ok(RepoLock { _file: Some(file) })
        }
        Err(TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", dir.display())),
    }
}

/// Takes the repository for one command working on it directly; `None` when
/// a daemon holds it (the command goes through the daemon's API instead).
pub fn lock_for_command(dir: &Path) -> Result<Option<RepoLock>, String> {
    if !dir.exists() {
        // Nothing to lock yet: no daemon knows a repository this command
        // is about to create.
        return Ok(Some(RepoLock { _file: None }));
    }
    let file = lock_file(dir).map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(RepoLock { _file: Some(file) })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", dir.display())),
    }
}

/// The API of the daemon running on `dir`, if one runs: its address and the
/// repository's admin token.
pub fn running_daemon(dir: &Path) -> Option<ApiInfo> {
    let address = std::fs::read_to_string(dir.join(API_FILE)).ok()?;
    let file = lock_file(dir).ok()?;
    if file.try_lock_shared().is_ok() {
        // The file is stale: the daemon that wrote it is gone.
        return None;
    }
    let token = std::fs::read_to_string(dir.join(TOKEN_FILE)).ok();
    let mut info = ApiInfo::parse(address.trim()).ok()?;
    info.token = token.map(|t| t.trim().to_string());
    Some(info)
}

/// The repository's token secret, created on first use.
pub fn secret(dir: &Path) -> Result<Secret, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Secret::load_or_create(&dir.join(SECRET_FILE))
        .map_err(|e| format!("cannot read the token secret: {e}"))
}

/// One step of a background loop.
pub type Step = Box<dyn FnMut() + Send>;

/// A node being served: what it serves and the work it does in the
/// background, each loop run until the daemon stops.
pub struct Served<N: Node> {
    pub node: Arc<N>,
    pub heads: Arc<dyn Feed>,
    /// Node-specific methods (a namespace of their own).
    pub extra: Api,
    /// Background loops: each is called again and again until stop.
    pub loops: Vec<(&'static str, Step)>,
}

/// Serves `served` on `options.listen` for the repository `dir` (locked by
/// the caller) until Ctrl-C or SIGTERM; writes the API file and admin token
/// into the repository and removes the API file on the way out. `started`
/// is called with the address once the node listens.
pub fn serve<N: Node>(
    dir: &Path,
    served: Served<N>,
    options: &ServeOptions,
    started: impl FnOnce(&ApiInfo),
) -> Result<(), String> {
    serve_until(dir, served, options, started, shutdown_signal())
}

/// A node served on a thread of its own (tests, benchmarks), as
/// [`serve`] serves it, until [`Background::stop`] or drop.
pub struct Background {
    /// The node's URL and an admin token.
    pub info: ApiInfo,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl Background {
    /// Stops serving and waits for the server and its loops to end.
    pub fn stop(mut self) -> Result<(), String> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Err(_)) => Err("the node's thread panicked".into()),
            Some(Ok(result)) => result,
            None => Ok(()),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}

/// Starts serving `served` for `dir` on a background thread; returns once
/// the node listens (`options.listen` may have port 0).
pub fn spawn<N: Node>(
    dir: &Path,
    served: Served<N>,
    options: &ServeOptions,
) -> Result<Background, String> {
    let (started, listening) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (dir, options) = (dir.to_path_buf(), options.clone());
    let thread = std::thread::Builder::new()
        .name("node".into())
        .spawn(move || {
            let started = move |info: &ApiInfo| {
                let _ = started.send(info.clone());
            };
            serve_until(&dir, served, &options, started, async move {
                let _ = stopped.await;
            })
        })
        .map_err(|e| format!("cannot start the node's thread: {e}"))?;
    match listening.recv() {
        Ok(info) => Ok(Background {
            info,
            stop: Some(stop),
            thread: Some(thread),
        }),
        Err(_) => match thread.join() {
            Ok(Err(e)) => Err(e),
            _ => Err("the node stopped before it listened".into()),
        },
    }
}

fn serve_until<N: Node>(
    dir: &Path,
    served: Served<N>,
    options: &ServeOptions,
    started: impl FnOnce(&ApiInfo),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let secret = secret(dir)?;
    let (v1, v0) = api::build(served.node.clone(), secret.clone(), &served.extra);
    let service = Service {
        v1,
        v0,
        secret: secret.clone(),
        heads: served.heads,
        max_request: options.max_request,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(options.listen))
        .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listen address: {e}"))?;
    let url = format!("http://{address}");
    let files = DaemonFiles::write(dir, &url, &secret)?;

    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<JoinHandle<()>> = served
        .loops
        .into_iter()
        .map(|(name, mut step)| {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name(name.to_string())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        step();
                    }
                })
                .expect("threads start")
        })
        .collect();

    started(&ApiInfo {
        token: Some(secret.token(&Perm::ALL)),
        url,
    });
    let result = runtime.block_on(server::run(listener, service, shutdown));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.join();
    }
    drop(files);
    // Calls still running on blocking threads are abandoned.
    runtime.shutdown_timeout(Duration::from_secs(2));
    result.map_err(|e| format!("the server failed: {e}"))
}

/// The API file and admin token; the API file goes when this is dropped.
struct DaemonFiles {
    api: PathBuf,
}

impl DaemonFiles {
    fn write(dir: &Path, url: &str, secret: &Secret) -> Result<Self, String> {
        let token = secret.token(&Perm::ALL);
        write_private(&dir.join(TOKEN_FILE), token.as_bytes())
            .map_err(|e| format!("cannot write the admin token: {e}"))?;
        let api = dir.join(API_FILE);
        write_private(&api, multiaddr(url).as_bytes())
            .map_err(|e| format!("cannot write the API address: {e}"))?;
        Ok(Self { api })
    }
}

impl Drop for DaemonFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.api);
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    eprintln!("stopping");
}
