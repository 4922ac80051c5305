//! What a command prints: a result's text rendering, or with `--json` its
//! serialization. Library results (the devnet's and the manager's) serialize
//! themselves; the types here are the few results made of several calls, or
//! printed with an option of the command line.

use paych_devnet::WalletOps;
use std::path::Path;

use cid::Cid;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use paych_chain::Head;
use paych_client::keyinfo::KeyInfo;
use paych_devnet::json::{self, Addr};
use paych_devnet::repo::MessageRecord;
use paych_devnet::wallet::WalletEntry;
use paych_devnet::{LocalDevnet, Result, Verified};
use paych_manager::{CheckedVoucher, Status};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::cli::KeyFormat;

/// A result's text form, for people.
pub trait Render {
    fn text(&self) -> String;
}

/// What a command prints: human text, or JSON with `--json`.
pub struct Output {
    pub text: String,
    pub json: Value,
}

impl Output {
    pub fn of<T: Serialize + Render>(result: &T) -> Self {
        Self {
            text: result.text(),
            json: serde_json::to_value(result).expect("results always serialize to JSON"),
        }
    }
}

/// `voucher check`: the payee's checks passed.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Checked(pub CheckedVoucher);

/// `voucher add`: the payee's checks passed and the voucher is stored.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Added(pub CheckedVoucher);

/// A list of vouchers, whose text form also shows each voucher's Lotus text
/// with `--export`.
pub struct Listing<T> {
    pub result: T,
    pub export: bool,
}

impl<T: Serialize> Serialize for Listing<T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.result.serialize(s)
    }
}

/// `status-by-from-to`: the channel's status, or that there is none.
pub struct PairStatus {
    pub from: Address,
    pub to: Address,
    pub status: Option<Status>,
}

impl Serialize for PairStatus {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if let Some(status) = &self.status {
            return status.serialize(s);
        }
        #[derive(Serialize)]
        struct Missing {
            state: &'static str,
        }
        let mut out = s.serialize_struct("PairStatus", 3)?;
        out.serialize_field("from", &Addr(&self.from))?;
        out.serialize_field("to", &Addr(&self.to))?;
        out.serialize_field(
            "status",
            &Missing {
                state: "does_not_exist",
            },
        )?;
        out.end()
    }
}

/// `status --lotus-json`: Lotus's `ChannelAvailableFunds`, in text mode too.
pub struct LotusStatus(pub Status);

impl Serialize for LotusStatus {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        paych_manager::json::LotusAvailableFunds(&self.0).serialize(s)
    }
}

/// `list`: every tracked channel's status.
#[derive(Serialize)]
#[serde(transparent)]
pub struct ChannelList(pub Vec<Status>);

/// `chain messages`.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Messages(pub Vec<MessageRecord>);

/// `wallet list`.
#[derive(Serialize)]
#[serde(transparent)]
pub struct WalletList(pub Vec<WalletEntry>);

/// The chain's head, as JSON shows it.
#[derive(Serialize)]
pub struct HeadJson {
    pub epoch: ChainEpoch,
    #[serde(serialize_with = "json::cid")]
    pub state_root: Cid,
}

impl From<Head> for HeadJson {
    fn from(head: Head) -> Self {
        Self {
            epoch: head.epoch,
            state_root: head.state_root,
        }
    }
}

/// `chain head`.
#[derive(Serialize)]
pub struct ChainHead {
    #[serde(flatten)]
    pub head: HeadJson,
    /// UNIX seconds.
    pub timestamp: u64,
    pub messages: u64,
}

impl ChainHead {
    pub fn of(net: &LocalDevnet) -> Result<Self> {
        let head = net.head()?;
        Ok(Self {
            timestamp: net.info().config.timestamp(head.epoch),
            messages: net.message_count()?,
            head: head.into(),
        })
    }
}

/// `chain advance`.
#[derive(Serialize)]
pub struct Advanced {
    #[serde(skip)]
    pub epochs: ChainEpoch,
    #[serde(flatten)]
    pub head: HeadJson,
}

/// `devnet init`.
#[derive(Serialize)]
pub struct Initialized {
    pub repo: String,
    #[serde(serialize_with = "json::cid")]
    pub state_root: Cid,
    pub network_version: u32,
    pub bundle: String,
    #[serde(skip)]
    pub base_fee: TokenAmount,
    pub wallets: Vec<GenesisWallet>,
}

#[derive(Serialize)]
pub struct GenesisWallet {
    #[serde(serialize_with = "json::address")]
    pub address: Address,
    #[serde(serialize_with = "json::atto")]
    pub balance: TokenAmount,
    pub default: bool,
}

impl Initialized {
    pub fn of(dir: &Path, net: &LocalDevnet) -> Result<Self> {
        let info = net.info();
        Ok(Self {
            repo: dir.display().to_string(),
            state_root: net.head()?.state_root,
            network_version: u32::from(info.config.network_version),
            bundle: info.bundle_origin.clone(),
            base_fee: info.config.base_fee.clone(),
            wallets: net
                .wallet_list()?
                .into_iter()
                .map(|w| GenesisWallet {
                    address: w.address,
                    balance: w.balance,
                    default: w.default,
                })
                .collect(),
        })
    }
}

/// `devnet info`.
#[derive(Serialize)]
pub struct DevnetInfo {
    pub repo: String,
    pub bundle: String,
    #[serde(serialize_with = "json::cid")]
    pub manifest: Cid,
    #[serde(skip)]
    pub paych_code: Option<Cid>,
    pub network_version: u32,
    #[serde(serialize_with = "json::atto")]
    pub base_fee: TokenAmount,
    #[serde(serialize_with = "json::cid")]
    pub genesis_root: Cid,
    #[serde(serialize_with = "json::atto")]
    pub total_supply: TokenAmount,
    pub head: HeadJson,
}

impl DevnetInfo {
    pub fn of(dir: &Path, net: &LocalDevnet) -> Result<Self> {
        let info = net.info();
        Ok(Self {
            repo: dir.display().to_string(),
            bundle: info.bundle_origin.clone(),
            manifest: info.config.manifest,
            paych_code: info
                .manifest
                .code(actor_interfaces::BuiltinType::PaymentChannel),
            network_version: u32::from(info.config.network_version),
            base_fee: info.config.base_fee.clone(),
            genesis_root: info.genesis_root,
            total_supply: info.total_supply.clone(),
            head: net.head()?.into(),
        })
    }
}

/// `devnet verify`: the chain's checks and the manager's.
pub struct RepoVerified {
    pub chain: Verified,
    /// Tracked channels, each consistent with the chain.
    pub channels: u64,
}

impl Serialize for RepoVerified {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let v = &self.chain;
        let mut out = s.serialize_struct("RepoVerified", 6)?;
        out.serialize_field("ok", &true)?;
        out.serialize_field("head", &HeadJson::from(v.head))?;
        out.serialize_field("messages", &v.messages)?;
        out.serialize_field("actors", &v.actors)?;
        out.serialize_field("channels", &self.channels)?;
        out.serialize_field("total_balance", &json::Atto(&v.total_balance))?;
        out.end()
    }
}

/// `wallet balance`.
#[derive(Serialize)]
pub struct Balance {
    #[serde(serialize_with = "json::address")]
    pub address: Address,
    #[serde(serialize_with = "json::atto")]
    pub balance: TokenAmount,
}

/// `wallet import`.
#[derive(Serialize)]
pub struct Imported {
    #[serde(serialize_with = "json::address")]
    pub address: Address,
    pub added: bool,
}

/// `wallet export`: the key in the chosen Lotus format.
#[derive(Serialize)]
pub struct ExportedKey {
    pub key: String,
}

impl ExportedKey {
    pub fn new(key: &KeyInfo, format: KeyFormat) -> Self {
        Self {
            key: match format {
                KeyFormat::HexLotus => key.to_lotus_hex(),
                KeyFormat::JsonLotus => key.to_json(),
            },
        }
    }
}

/// `wallet new`, `wallet default`, `wallet set-default`: an address, and
/// what happened to it.
#[derive(Serialize)]
pub struct WalletAddress {
    #[serde(serialize_with = "json::address")]
    pub address: Address,
    #[serde(skip)]
    pub made_default: bool,
}

impl WalletAddress {
    pub fn new(address: Address) -> Self {
        Self {
            address,
            made_default: false,
        }
    }

    pub fn default_of(address: Address) -> Self {
        Self::new(address)
    }

    pub fn set_default(address: Address) -> Self {
        Self {
            address,
            made_default: true,
        }
    }
}
