//! The one error type of the devnet and the channel manager: a kind (for
//! callers and `--json`) and a one-line message for people.

use std::fmt;

/// What went wrong, in the terms a user acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad command-line input: an amount, an address, a lane.
    InvalidInput,
    /// The channel is neither on chain nor in the local store.
    UnknownChannel,
    /// The address has no actor on chain.
    UnknownAddress,
    /// The voucher text does not decode, or the voucher is unusable here.
    BadVoucher,
    /// The voucher is not signed by the party it must be signed by.
    WrongSigner,
    /// The voucher's nonce (or amount) is not above what is known for its lane.
    StaleNonce,
    /// The channel or an account cannot cover an amount.
    InsufficientFunds,
    /// The channel is settling (or settled) and cannot do what was asked.
    Settling,
    /// The channel was collected: its actor no longer exists.
    Collected,
    /// Collect was asked for before `settling_at`.
    CollectTooEarly,
    /// The wallet does not hold the key the command needs.
    MissingKey,
    /// The message would fail on chain, or the message pool refused it.
    Rejected,
    /// The payee would collect with stored vouchers worth more than the
    /// channel redeemed never submitted.
    UnsubmittedVouchers,
    /// The repository is missing, locked or damaged.
    Repo,
    /// A bug or an unexpected state.
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::InvalidInput,
        ErrorKind::UnknownChannel,
        ErrorKind::UnknownAddress,
        ErrorKind::BadVoucher,
        ErrorKind::WrongSigner,
        ErrorKind::StaleNonce,
        ErrorKind::InsufficientFunds,
        ErrorKind::Settling,
        ErrorKind::Collected,
        ErrorKind::CollectTooEarly,
        ErrorKind::MissingKey,
        ErrorKind::Rejected,
        ErrorKind::UnsubmittedVouchers,
        ErrorKind::Repo,
        ErrorKind::Internal,
    ];

    /// The kind [`ErrorKind::name`] names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// A stable snake_case name, for `--json`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::UnknownChannel => "unknown_channel",
            ErrorKind::UnknownAddress => "unknown_address",
            ErrorKind::BadVoucher => "bad_voucher",
            ErrorKind::WrongSigner => "wrong_signer",
            ErrorKind::StaleNonce => "stale_nonce",
            ErrorKind::InsufficientFunds => "insufficient_funds",
            ErrorKind::Settling => "settling",
            ErrorKind::Collected => "collected",
            ErrorKind::CollectTooEarly => "collect_too_early",
            ErrorKind::MissingKey => "missing_key",
            ErrorKind::Rejected => "rejected",
            ErrorKind::UnsubmittedVouchers => "unsubmitted_vouchers",
            ErrorKind::Repo => "repo",
            ErrorKind::Internal => "internal",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// The amount an `InsufficientFunds` error is short by, when known (the
    /// API reports it as `Shortfall`).
    shortfall: Option<fvm_shared::econ::TokenAmount>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        // One line, always: the CLI prints this as its only stderr line.
        let message = message
            .into()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            kind,
            message,
            shortfall: None,
        }
    }

    pub fn with_shortfall(mut self, shortfall: fvm_shared::econ::TokenAmount) -> Self {
        self.shortfall = Some(shortfall);
        self
    }

    pub fn shortfall(&self) -> Option<&fvm_shared::econ::TokenAmount> {
        self.shortfall.as_ref()
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    pub fn unknown_channel(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnknownChannel, message)
    }
    pub fn unknown_address(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnknownAddress, message)
    }
    pub fn bad_voucher(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadVoucher, message)
    }
    pub fn wrong_signer(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::WrongSigner, message)
    }
    pub fn stale_nonce(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::StaleNonce, message)
    }
    pub fn insufficient_funds(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InsufficientFunds, message)
    }
    pub fn settling(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Settling, message)
    }
    pub fn collected(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Collected, message)
    }
    pub fn collect_too_early(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::CollectTooEarly, message)
    }
    pub fn missing_key(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::MissingKey, message)
    }
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Rejected, message)
    }
    pub fn unsubmitted_vouchers(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnsubmittedVouchers, message)
    }
    pub fn repo(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Repo, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::repo(format!("repository database error: {e}"))
    }
}

/// Adds context to internal failures (blockstore, codec, FVM), which become
/// `Internal` errors.
pub trait Context<T> {
    fn context(self, what: &str) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::internal(format!("{what}: {e}")))
    }
}
