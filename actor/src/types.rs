//! Parameters, limits and the voucher: the wire types shared by the actor, the
//! harness and the CLI. All are tuple-encoded DAG-CBOR, field for field the
//! same as Filecoin's built-in payment channel.

use alloc::vec::Vec;

use fvm_ipld_encoding::tuple::*;
use fvm_ipld_encoding::{RawBytes, strict_bytes};
use fvm_shared::MethodNum;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::crypto::signature::Signature;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;

/// The first exit code that belongs to this actor: an update arrived at or
/// after `settling_at`.
pub const ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED: ExitCode = ExitCode::new(32);

pub use actor_interfaces::EPOCH_DURATION_SECONDS;
/// 3600 / 30.
pub const EPOCHS_IN_HOUR: ChainEpoch = 3600 / EPOCH_DURATION_SECONDS;
/// How long after Settle the payee has to submit vouchers: 12 hours.
pub const SETTLE_DELAY: ChainEpoch = EPOCHS_IN_HOUR * 12;
/// The highest lane index a voucher may name.
pub const MAX_LANE: u64 = i64::MAX as u64;
/// The longest secret accepted with UpdateChannelState.
pub const MAX_SECRET_SIZE: usize = 256;
/// Bit width of the lane-state AMT.
pub const LANE_STATES_AMT_BITWIDTH: u32 = 3;

/// Constructor parameters: the payer and the payee, any address protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct ConstructorParams {
    pub from: Address,
    pub to: Address,
}

/// UpdateChannelState parameters. The secret's blake2b-256 must match the
/// voucher's `secret_pre_image` when that is set.
#[derive(Clone, Debug, PartialEq, Serialize_tuple, Deserialize_tuple)]
pub struct UpdateChannelStateParams {
    pub sv: SignedVoucher,
    #[serde(with = "strict_bytes")]
    pub secret: Vec<u8>,
}

/// A call the channel makes to another actor before redeeming a voucher; a
/// failure of that call rejects the voucher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct ModVerifyParams {
    pub actor: Address,
    pub method: MethodNum,
    pub data: RawBytes,
}

/// Marks `lane` as consumed up to `nonce` by a voucher on another lane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Merge {
    pub lane: u64,
    pub nonce: u64,
}

/// A voucher: a promise by one party that `amount` (cumulative for the lane)
/// may be redeemed from the channel.
#[derive(Clone, Debug, PartialEq, Serialize_tuple, Deserialize_tuple)]
pub struct SignedVoucher {
    /// The channel this voucher is for, so it cannot be replayed elsewhere.
    pub channel_addr: Address,
    /// First epoch at which the voucher may be redeemed.
    pub time_lock_min: ChainEpoch,
    /// Last epoch at which the voucher may be redeemed; 0 means no expiry.
    pub time_lock_max: ChainEpoch,
    /// Despite the name, the blake2b-256 *hash* of the secret (or empty).
    #[serde(with = "strict_bytes")]
    pub secret_pre_image: Vec<u8>,
    pub extra: Option<ModVerifyParams>,
    pub lane: u64,
    pub nonce: u64,
    pub amount: TokenAmount,
    /// The channel cannot be collected before this epoch.
    pub min_settle_height: ChainEpoch,
    pub merges: Vec<Merge>,
    pub signature: Option<Signature>,
}

impl SignedVoucher {
    /// An unsigned voucher for `lane` with no time locks, secret, extra call,
    /// minimum settle height or merges: the common shape.
    pub fn new(channel_addr: Address, lane: u64, nonce: u64, amount: TokenAmount) -> Self {
        Self {
            channel_addr,
            time_lock_min: 0,
            time_lock_max: 0,
            secret_pre_image: Vec::new(),
            extra: None,
            lane,
            nonce,
            amount,
            min_settle_height: 0,
            merges: Vec::new(),
            signature: None,
        }
    }

    /// The bytes a voucher's signature covers: the same 11-element array with
    /// the signature slot encoded as CBOR null. This is the only place they are
    /// built.
    pub fn signing_bytes(&self) -> Result<Vec<u8>, fvm_ipld_encoding::Error> {
        #[derive(Serialize_tuple)]
        struct Unsigned<'a> {
            channel_addr: &'a Address,
            time_lock_min: ChainEpoch,
            time_lock_max: ChainEpoch,
            #[serde(with = "strict_bytes")]
            secret_pre_image: &'a [u8],
            extra: &'a Option<ModVerifyParams>,
            lane: u64,
            nonce: u64,
            amount: &'a TokenAmount,
            min_settle_height: ChainEpoch,
            merges: &'a [Merge],
            signature: (),
        }
        fvm_ipld_encoding::to_vec(&Unsigned {
            channel_addr: &self.channel_addr,
            time_lock_min: self.time_lock_min,
            time_lock_max: self.time_lock_max,
            secret_pre_image: &self.secret_pre_image,
            extra: &self.extra,
            lane: self.lane,
            nonce: self.nonce,
            amount: &self.amount,
            min_settle_height: self.min_settle_height,
            merges: &self.merges,
            signature: (),
        })
    }
}
