//! Tests of every call of the model registry, success and failure.

#![allow(clippy::arithmetic_side_effects)]

use crate::{mock::*, Error, Event, HoldReason, ModelCount, ModelSpec};
use commons_primitives::{ModelRegistry, ModelStatus};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::InspectHold, ConstU32},
};
use sp_runtime::{BuildStorage, DispatchError};

fn spec(name: &str) -> ModelSpec<Balance, ConstU32<16>> {
	ModelSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		architecture: b"llama".to_vec().try_into().unwrap(),
		quantisation: b"Q4_1".to_vec().try_into().unwrap(),
		weights_sha256: [7; 32],
		weights_size: 98_362_432,
		tokenizer_hash: [8; 32],
		engine_version: 1,
		min_price: 10,
	}
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Models(HoldReason::ModelDeposit), &who)
}

#[test]
fn register_model_holds_the_deposit() {
	build_and_execute(|| {
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), spec("smol")));
		let info = crate::Models::<Test>::get(0).unwrap();
		assert_eq!(info.owner, ALICE);
		assert_eq!(info.deposit, 100);
		assert_eq!(info.status, ModelStatus::Active);
		assert_eq!(held(ALICE), 100);
		assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - 100);
		System::assert_last_event(
			Event::ModelRegistered { model: 0, owner: ALICE, deposit: 100 }.into(),
		);
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), spec("other")));
		assert!(crate::Models::<Test>::get(1).is_some());
		assert_eq!(held(ALICE), 200);
	});
}

#[test]
fn register_model_refuses_bad_input_and_holds_nothing() {
	build_and_execute(|| {
		let mut empty = spec("x");
		empty.name = Default::default();
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), empty),
			Error::<Test>::EmptyText
		);
		let mut zero_size = spec("x");
		zero_size.weights_size = 0;
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), zero_size),
			Error::<Test>::ZeroWeightsSize
		);
		let mut free = spec("x");
		free.min_price = 0;
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), free),
			Error::<Test>::ZeroMinPrice
		);
		let mut no_engine = spec("x");
		no_engine.engine_version = 0;
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), no_engine),
			Error::<Test>::ZeroEngineVersion
		);
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(POOR), spec("x")),
			Error::<Test>::InsufficientDeposit
		);
		assert_noop!(
			Models::register_model(RuntimeOrigin::none(), spec("x")),
			DispatchError::BadOrigin
		);
		assert_eq!(held(ALICE), 0);
		assert_eq!(ModelCount::<Test>::get(), 0);
	});
}

#[test]
fn register_model_stops_at_the_registry_bound() {
	build_and_execute(|| {
		for name in ["a", "b", "c"] {
			assert_ok!(Models::register_model(RuntimeOrigin::signed(BOB), spec(name)));
		}
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(BOB), spec("d")),
			Error::<Test>::TooManyModels
		);
		assert_eq!(held(BOB), 300);
	});
}

#[test]
fn set_model_status_by_admin() {
	build_and_execute(|| {
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), spec("smol")));
		assert_ok!(Models::set_model_status(RuntimeOrigin::root(), 0, ModelStatus::Deprecated));
		System::assert_last_event(
			Event::ModelStatusChanged { model: 0, status: ModelStatus::Deprecated }.into(),
		);
		assert_eq!(Models::terms(0).unwrap().status, ModelStatus::Deprecated);
		assert_ok!(Models::set_model_status(RuntimeOrigin::root(), 0, ModelStatus::Active));
		assert_ok!(Models::set_model_status(RuntimeOrigin::root(), 0, ModelStatus::Banned));
		assert_eq!(Models::terms(0).unwrap().status, ModelStatus::Banned);
	});
}

#[test]
fn set_model_status_failures() {
	build_and_execute(|| {
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), spec("smol")));
		assert_noop!(
			Models::set_model_status(RuntimeOrigin::signed(ALICE), 0, ModelStatus::Banned),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Models::set_model_status(RuntimeOrigin::root(), 9, ModelStatus::Banned),
			Error::<Test>::ModelNotFound
		);
		assert_noop!(
			Models::set_model_status(RuntimeOrigin::root(), 0, ModelStatus::Active),
			Error::<Test>::StatusUnchanged
		);
		assert_ok!(Models::set_model_status(RuntimeOrigin::root(), 0, ModelStatus::Banned));
		assert_noop!(
			Models::set_model_status(RuntimeOrigin::root(), 0, ModelStatus::Active),
			Error::<Test>::ModelBanned
		);
	});
}

#[test]
fn deregister_model_returns_the_deposit() {
	build_and_execute(|| {
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), spec("smol")));
		assert_ok!(Models::deregister_model(RuntimeOrigin::signed(ALICE), 0));
		assert!(crate::Models::<Test>::get(0).is_none());
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE);
		assert_eq!(ModelCount::<Test>::get(), 0);
		System::assert_last_event(
			Event::ModelDeregistered { model: 0, owner: ALICE, deposit: 100 }.into(),
		);
		// Ids are never reused.
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), spec("next")));
		assert!(crate::Models::<Test>::get(1).is_some());
	});
}

#[test]
fn deregister_model_failures() {
	build_and_execute(|| {
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), spec("smol")));
		assert_noop!(
			Models::deregister_model(RuntimeOrigin::signed(BOB), 0),
			Error::<Test>::NotModelOwner
		);
		assert_noop!(
			Models::deregister_model(RuntimeOrigin::signed(ALICE), 5),
			Error::<Test>::ModelNotFound
		);
		// A job that may be live until block 12 reserves the model until the step after it.
		assert_eq!(Models::reserve(0, 12), Ok(true));
		assert_eq!(crate::Models::<Test>::get(0).unwrap().reserved_until, 20);
		assert_noop!(
			Models::deregister_model(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ModelInUse
		);
		System::set_block_number(20);
		assert_noop!(
			Models::deregister_model(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ModelInUse
		);
		System::set_block_number(21);
		assert_ok!(Models::deregister_model(RuntimeOrigin::signed(ALICE), 0));
		assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE);
	});
}

#[test]
fn registry_trait_reports_terms_and_reserves_in_steps() {
	build_and_execute(|| {
		assert!(Models::terms(0).is_none());
		assert_noop!(Models::reserve(0, 5), Error::<Test>::ModelNotFound);
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), spec("smol")));
		let terms = Models::terms(0).unwrap();
		assert_eq!(
			(terms.status, terms.min_price, terms.engine_version),
			(ModelStatus::Active, 10, 1)
		);
		// The first reservation writes, rounded up to the step after the block.
		assert_eq!(Models::reserve(0, 5), Ok(true));
		assert_eq!(crate::Models::<Test>::get(0).unwrap().reserved_until, 10);
		// Later jobs within the step write nothing.
		assert_eq!(Models::reserve(0, 9), Ok(false));
		assert_eq!(Models::reserve(0, 10), Ok(false));
		assert_eq!(crate::Models::<Test>::get(0).unwrap().reserved_until, 10);
		// A job beyond it extends the reservation by whole steps.
		assert_eq!(Models::reserve(0, 11), Ok(true));
		assert_eq!(crate::Models::<Test>::get(0).unwrap().reserved_until, 20);
		// At the top of the range the reservation is the block itself.
		assert_eq!(Models::reserve(0, u64::MAX), Ok(true));
		assert_eq!(crate::Models::<Test>::get(0).unwrap().reserved_until, u64::MAX);
	});
}

#[test]
fn genesis_models_are_registered_without_deposit() {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	crate::GenesisConfig::<Test> {
		models: vec![crate::GenesisModel {
			owner: ALICE,
			name: "SmolLM2".into(),
			architecture: "llama".into(),
			quantisation: "Q4_1".into(),
			weights_sha256: [1; 32],
			weights_size: 5,
			tokenizer_hash: [2; 32],
			engine_version: 1,
			min_price: 3,
		}],
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		let info = crate::Models::<Test>::get(0).unwrap();
		assert_eq!(info.deposit, 0);
		assert_eq!(&info.spec.name[..], b"SmolLM2");
		assert_eq!(ModelCount::<Test>::get(), 1);
		Models::do_try_state().unwrap();
	});
}
