//! The other actors a payment channel talks to: the account actor (asked to
//! authenticate voucher signatures) and the init actor (whose `Exec` creates
//! channels). Their interfaces are defined once, in `actor-interfaces`, for
//! every side of the Wasm boundary; this module names the ones the channel
//! uses.

pub use actor_interfaces::builtin::{BuiltinType, INIT_ACTOR_ID, SYSTEM_ACTOR_ID};
pub use actor_interfaces::{account, init};
