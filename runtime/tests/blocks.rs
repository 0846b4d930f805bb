//! The runtime on its own, natively: genesis from every preset, and blocks carrying signed
//! transfers from an sr25519 and an ed25519 signer.

// Test code may panic: a failed unwrap here is a failed test, not a halted chain.
#![allow(
	clippy::unwrap_used,
	clippy::expect_used,
	clippy::panic,
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing
)]

mod common;

use codec::Encode;
use common::genesis_from_preset;
use commons_runtime::{
	currency::{EXISTENTIAL_DEPOSIT, UNIT},
	genesis_config_presets::{self, DEV_ENDOWMENT},
	AccountId, Balance, Balances, Executive, Header, Runtime, RuntimeCall, RuntimeEvent, System,
	UncheckedExtrinsic, VERSION,
};
use commons_testing::{
	tx::{self, ChainContext, Lifetime},
	Keypair, Scheme,
};
use frame_support::traits::fungible::Inspect;
use sp_consensus_aura::{Slot, AURA_ENGINE_ID};
use sp_runtime::{
	traits::Header as _, transaction_validity::InvalidTransaction, ApplyExtrinsicResult, Digest,
	DigestItem, DispatchError, TokenError,
};

fn dev_key(name: &str, scheme: Scheme) -> Keypair {
	Keypair::from_uri(&format!("//{name}"), scheme).unwrap()
}

fn chain_context() -> ChainContext {
	ChainContext {
		genesis_hash: frame_system::BlockHash::<Runtime>::get(0),
		spec_version: VERSION.spec_version,
		transaction_version: VERSION.transaction_version,
	}
}

/// Starts block 1 in Aura slot 1, with its timestamp inherent applied.
fn start_block() {
	let slot = Slot::from(1u64);
	let digest = Digest { logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, slot.encode())] };
	let parent = System::block_hash(0);
	let header = Header::new(1, Default::default(), Default::default(), parent, digest);
	Executive::initialize_block(&header);
	let now = u64::from(slot) * commons_runtime::time::SLOT_DURATION;
	let timestamp =
		UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set { now }));
	Executive::apply_extrinsic(timestamp).unwrap().unwrap();
}

fn signed_transfer(from: &Keypair, to: &AccountId, value: Balance) -> UncheckedExtrinsic {
	let nonce = System::account_nonce(from.account_id());
	tx::sign(tx::transfer(to.clone(), value), from, nonce, 0, chain_context(), Lifetime::Immortal)
}

fn fee_paid_by(who: &AccountId) -> Balance {
	System::events()
		.into_iter()
		.find_map(|record| match record.event {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid {
					who: payer,
					actual_fee,
					..
				},
			) if payer == *who => Some(actual_fee),
			_ => None,
		})
		.expect("a fee was paid")
}

#[test]
fn every_preset_builds_its_genesis() {
	assert_eq!(
		genesis_config_presets::preset_names(),
		vec!["development".to_string(), "local_testnet".to_string()]
	);
	let alice = Some(dev_key("Alice", Scheme::Sr25519).account_id());
	for (name, validators, sudo) in [
		("development", 1, alice.clone()),
		("local_testnet", 4, alice),
		("a launched network", 4, None),
	] {
		let mut genesis = match name {
			"a launched network" => common::example_network(),
			preset => genesis_from_preset(preset),
		};
		genesis.execute_with(|| {
			assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), validators, "{name}");
			assert_eq!(pallet_grandpa::Authorities::<Runtime>::get().len(), validators, "{name}");
			assert_eq!(pallet_sudo::Key::<Runtime>::get(), sudo, "{name}");
		});
	}
	assert!(genesis_config_presets::get_preset(&"no-such-preset".into()).is_none());
}

#[test]
fn development_and_local_endow_every_sr25519_and_ed25519_dev_account() {
	for preset in ["development", "local_testnet"] {
		genesis_from_preset(preset).execute_with(|| {
			for name in ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"] {
				for scheme in [Scheme::Sr25519, Scheme::Ed25519] {
					let account = dev_key(name, scheme).account_id();
					assert_eq!(Balances::balance(&account), DEV_ENDOWMENT, "{preset} {name}");
				}
			}
			// Twelve well-known keys (Alice to Ferdie and their stashes) in each of two schemes.
			let accounts = genesis_config_presets::dev_accounts();
			assert_eq!(accounts.len(), 24);
			assert_eq!(
				Balances::total_issuance(),
				24 * DEV_ENDOWMENT + EXISTENTIAL_DEPOSIT,
				"{preset}: nobody else but the treasury"
			);
		});
	}
}

/// A launched network holds what its operators endowed and nothing for the public dev keys.
#[test]
fn a_launched_network_endows_only_its_operators_accounts() {
	use sp_core::Pair;
	common::example_network().execute_with(|| {
		for (aura, _) in common::example_validators() {
			let account = AccountId::from(aura.public());
			assert_eq!(Balances::balance(&account), common::EXAMPLE_ENDOWMENT);
		}
		for name in ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"] {
			for scheme in [Scheme::Sr25519, Scheme::Ed25519] {
				assert_eq!(Balances::balance(&dev_key(name, scheme).account_id()), 0, "{name}");
			}
		}
		assert_eq!(Balances::total_issuance(), 4 * common::EXAMPLE_ENDOWMENT + EXISTENTIAL_DEPOSIT);
	});
}

#[test]
fn a_block_with_signed_transfers_from_both_schemes_executes_and_charges_fees() {
	genesis_from_preset("development").execute_with(|| {
		start_block();
		let charlie = dev_key("Charlie", Scheme::Sr25519).account_id();
		let mut expected_charlie = Balances::balance(&charlie);

		for scheme in [Scheme::Sr25519, Scheme::Ed25519] {
			let sender = dev_key("Alice", scheme);
			let before = Balances::balance(&sender.account_id());
			System::reset_events();

			let result: ApplyExtrinsicResult =
				Executive::apply_extrinsic(signed_transfer(&sender, &charlie, 5 * UNIT));
			assert_eq!(result, Ok(Ok(())), "{scheme:?} transfer applies");

			let fee = fee_paid_by(&sender.account_id());
			assert!(fee > 0, "{scheme:?} sender pays a fee");
			assert_eq!(Balances::balance(&sender.account_id()), before - 5 * UNIT - fee);
			expected_charlie += 5 * UNIT;
			assert_eq!(Balances::balance(&charlie), expected_charlie);
			assert_eq!(System::account_nonce(sender.account_id()), 1);
		}

		let header = Executive::finalize_block();
		assert_eq!(*header.number(), 1);
	});
}

#[test]
fn a_transfer_with_a_bad_signature_is_refused_and_moves_nothing() {
	genesis_from_preset("development").execute_with(|| {
		start_block();
		let alice = dev_key("Alice", Scheme::Sr25519);
		let bob = dev_key("Bob", Scheme::Sr25519).account_id();
		let (alice_before, bob_before) =
			(Balances::balance(&alice.account_id()), Balances::balance(&bob));

		// Alice's transfer carrying a signature made by Eve.
		let eve_signature =
			tx::signature_of(&signed_transfer(&dev_key("Eve", Scheme::Sr25519), &bob, UNIT))
				.unwrap();
		let forged =
			tx::with_signature(signed_transfer(&alice, &bob, UNIT), eve_signature).unwrap();

		let result = Executive::apply_extrinsic(forged);
		assert_eq!(result, Err(InvalidTransaction::BadProof.into()));
		assert_eq!(Balances::balance(&alice.account_id()), alice_before);
		assert_eq!(Balances::balance(&bob), bob_before);
	});
}

#[test]
fn a_transfer_of_more_than_the_balance_fails_and_only_the_fee_is_charged() {
	genesis_from_preset("development").execute_with(|| {
		start_block();
		let bob = dev_key("Bob", Scheme::Ed25519);
		let dave = dev_key("Dave", Scheme::Sr25519).account_id();
		let (bob_before, dave_before) =
			(Balances::balance(&bob.account_id()), Balances::balance(&dave));
		System::reset_events();

		let result = Executive::apply_extrinsic(signed_transfer(&bob, &dave, bob_before + 1));
		assert_eq!(result, Ok(Err(DispatchError::Token(TokenError::FundsUnavailable))));
		let fee = fee_paid_by(&bob.account_id());
		assert_eq!(Balances::balance(&bob.account_id()), bob_before - fee);
		assert_eq!(Balances::balance(&dave), dave_before);
	});
}

#[test]
fn a_transfer_that_would_leave_dust_in_a_new_account_is_refused() {
	genesis_from_preset("development").execute_with(|| {
		start_block();
		let alice = dev_key("Alice", Scheme::Sr25519);
		let newcomer = dev_key("Newcomer", Scheme::Sr25519).account_id();
		let result =
			Executive::apply_extrinsic(signed_transfer(&alice, &newcomer, EXISTENTIAL_DEPOSIT - 1));
		assert_eq!(result, Ok(Err(DispatchError::Token(TokenError::BelowMinimum))));
		assert_eq!(Balances::balance(&newcomer), 0);
	});
}
