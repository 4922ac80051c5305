//! The built-in actor types, the actors every network has at fixed IDs, and
//! the epoch length the actors' time arithmetic assumes.

use fvm_shared::{ActorID, MethodNum};

/// Methods at or above this number are "exported" (FRC-0042) and callable by
/// any actor; everything below is internal to built-in actors.
pub const FIRST_EXPORTED_METHOD_NUMBER: MethodNum = 1 << 24;

/// What kind of actor lives at an ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// No actor (no code) at this ID.
    Missing,
    /// A built-in actor of the given type.
    Builtin(BuiltinType),
    /// Any other code: a user-deployed Wasm actor, or code whose type number
    /// is not in the manifest's type list.
    User,
}

impl ActorKind {
    /// The built-in actors' gate on internal methods: only a built-in actor
    /// that is not an EVM contract may call a method below 2^24.
    pub fn may_call_internal_methods(self) -> bool {
        matches!(self, ActorKind::Builtin(t) if t != BuiltinType::Evm)
    }
}

/// Filecoin epochs are 30 seconds long (the payment channel's settle delay
/// and every chain's timestamps follow from it).
pub const EPOCH_DURATION_SECONDS: i64 = 30;

/// The system actor; its state names the actor manifest.
pub const SYSTEM_ACTOR_ID: ActorID = 0;
/// The init actor: creates payment channels (and multisigs) with `Exec`.
pub const INIT_ACTOR_ID: ActorID = 1;
/// The Ethereum address manager.
pub const EAM_ACTOR_ID: ActorID = 10;
/// Gas fees are burnt by sending them here.
pub const BURNT_FUNDS_ACTOR_ID: ActorID = 99;

/// A built-in actor type. The FVM numbers the types by their position in the
/// builtin-actors manifest, starting at 1, so the discriminants are the type
/// numbers the FVM reports and [`BuiltinType::ALL`] is the manifest order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum BuiltinType {
    System = 1,
    Init = 2,
    Cron = 3,
    Account = 4,
    StoragePower = 5,
    StorageMiner = 6,
    StorageMarket = 7,
    PaymentChannel = 8,
    Multisig = 9,
    Reward = 10,
    VerifiedRegistry = 11,
    DataCap = 12,
    Placeholder = 13,
    Evm = 14,
    Eam = 15,
    EthAccount = 16,
}

impl BuiltinType {
    /// Every type in manifest order: entry `i` has type number `i + 1`.
    pub const ALL: [BuiltinType; 16] = [
        BuiltinType::System,
        BuiltinType::Init,
        BuiltinType::Cron,
        BuiltinType::Account,
        BuiltinType::StoragePower,
        BuiltinType::StorageMiner,
        BuiltinType::StorageMarket,
        BuiltinType::PaymentChannel,
        BuiltinType::Multisig,
        BuiltinType::Reward,
        BuiltinType::VerifiedRegistry,
        BuiltinType::DataCap,
        BuiltinType::Placeholder,
        BuiltinType::Evm,
        BuiltinType::Eam,
        BuiltinType::EthAccount,
    ];

    /// The entry name in a builtin-actors manifest.
    pub const fn name(self) -> &'static str {
        match self {
            BuiltinType::System => "system",
            BuiltinType::Init => "init",
            BuiltinType::Cron => "cron",
            BuiltinType::Account => "account",
            BuiltinType::StoragePower => "storagepower",
            BuiltinType::StorageMiner => "storageminer",
            BuiltinType::StorageMarket => "storagemarket",
            BuiltinType::PaymentChannel => "paymentchannel",
            BuiltinType::Multisig => "multisig",
            BuiltinType::Reward => "reward",
            BuiltinType::VerifiedRegistry => "verifiedregistry",
            BuiltinType::DataCap => "datacap",
            BuiltinType::Placeholder => "placeholder",
            BuiltinType::Evm => "evm",
            BuiltinType::Eam => "eam",
            BuiltinType::EthAccount => "ethaccount",
        }
    }

    /// The type number the FVM reports for this type's code.
    pub const fn type_number(self) -> u32 {
        self as u32
    }

    /// The type with this manifest entry name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The type the FVM numbers `number`. Numbers outside the manifest's type
    /// list (0 is "not built-in") are not built-in types.
    pub fn from_type_number(number: u32) -> Option<Self> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        Self::ALL.get(index).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_numbers_are_manifest_positions_and_names_round_trip() {
        for (i, t) in BuiltinType::ALL.iter().enumerate() {
            assert_eq!(t.type_number() as usize, i + 1);
            assert_eq!(BuiltinType::from_type_number(t.type_number()), Some(*t));
            assert_eq!(BuiltinType::from_name(t.name()), Some(*t));
        }
        assert_eq!(BuiltinType::from_type_number(0), None);
        assert_eq!(BuiltinType::from_type_number(17), None);
        assert_eq!(BuiltinType::from_name("paych"), None);
    }
}
