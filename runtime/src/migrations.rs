//! Storage migrations, run once by the first block of a new runtime (docs/chain.md, "Upgrades").
//!
//! Every change to a pallet's storage layout ships with a migration in the same release: the
//! pallet's `STORAGE_VERSION` moves up by one, and a `VersionedMigration` from the previous
//! version goes in [`Unreleased`]. A `VersionedMigration` runs only while the pallet's on-chain
//! version is the one it starts from and sets the new one, so it runs once however often the
//! code is upgraded. After a release has been enacted on every network, its migrations leave
//! the list (the code that wrote the old layout is gone).
//!
//! The release test (`node/tests/upgrade.rs`) upgrades a chain running the previous release's
//! runtime, with live jobs, stake and votes, to this one, and checks every pallet's storage
//! version and invariants against the migrated state.

/// The migrations of the release being prepared; empty when it changes no layout.
pub type Unreleased = ();
