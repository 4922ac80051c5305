//! Keys of the repository's settings (the `meta` table).

pub const MANIFEST: &str = "chain.manifest";
pub const NETWORK_VERSION: &str = "chain.network_version";
pub const BASE_FEE: &str = "chain.base_fee";
pub const GENESIS_TIMESTAMP: &str = "chain.genesis_timestamp";
pub const GENESIS_ROOT: &str = "chain.genesis_root";
pub const TOTAL_SUPPLY: &str = "chain.total_supply";
pub const BUNDLE_ORIGIN: &str = "chain.bundle_origin";
pub const DEFAULT_KEY: &str = "wallet.default";
/// Set in a lite node's repository: the full node it fronts. Such a
/// repository holds a wallet and vouchers but no chain.
pub const LITE_FULL_NODE: &str = "lite.full_node";
