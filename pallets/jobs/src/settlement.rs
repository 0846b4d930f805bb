//! Settlement: the end of a round, escalation, and who is paid, slashed and refunded.
//!
//! Outputs are exact, so two honest workers always reveal the same hash and any disagreement
//! means someone is wrong. A round ends when its last possible reveal arrives or its reveal
//! window is over. Its seats that did not commit or reveal are slashed as no-shows at once and
//! released. Then the reveals of every round are counted: an output is **accepted** when at
//! least a quorum (a majority of the replicas asked for) revealed it and more seats revealed it
//! than all other outputs together. Otherwise the job **escalates**: it asks for the fewest
//! further seats that could make such a majority, drawn as the first ones were, unless that
//! would pass the job's seat bound ([`Pallet::max_seats`]), in which case it ends with
//! **NoQuorum**. Slashed stake goes to the treasury; the requester pays only for agreeing
//! seats and gets the rest of its escrow back, so it never ends a job richer than it started.

use crate::*;
use commons_primitives::Outcome;

/// The reveals of a job, counted.
struct Tally {
	/// The output most seats revealed (the first revealed among equals) and how many did.
	top: Option<(OutputHash, u32)>,
	/// How many seats revealed any output.
	revealed: u32,
}

impl<T: Config> Pallet<T> {
	/// Ends the job's current round: slashes and releases its no-shows, then accepts the
	/// job, escalates it, or ends it without a majority. Returns how many seats were slashed.
	pub(crate) fn end_round(
		job: JobId,
		mut record: Job<T>,
		now: BlockNumberFor<T>,
		counters: &mut Counters,
	) -> u32 {
		let mut slashed = 0u32;
		for seat in
			record.seats.iter().filter(|seat| seat.round == record.round && seat.revealed.is_none())
		{
			Self::slash_seat(job, &seat.worker, SlashReason::NoShow);
			T::Workers::note_settled(&seat.worker, job, Some(Outcome::NoShow));
			slashed = slashed.saturating_add(1);
		}
		let tally = Self::tally(&record);
		let quorum = Self::quorum_of(&record);
		if let Some((output_hash, votes)) = tally.top {
			let others = tally.revealed.saturating_sub(votes);
			if votes >= quorum && votes > others {
				return slashed.saturating_add(Self::finish(
					job,
					record,
					now,
					Verdict::Accepted { output_hash },
				));
			}
		}
		let (votes, others) = match tally.top {
			Some((_, votes)) => (votes, tally.revealed.saturating_sub(votes)),
			None => (0, 0),
		};
		// The fewest seats that, all revealing the leading output, give it a quorum and more
		// reveals than the others.
		let needed =
			quorum.saturating_sub(votes).max(others.saturating_add(1).saturating_sub(votes));
		let seats = record.seats.len() as u32;
		let next_round = record.round.checked_add(1);
		match next_round {
			Some(round)
				if seats.saturating_add(needed)
					<= Self::seat_bound(record.replicas, record.security) =>
			{
				record.round = round;
				if tally.revealed == 0 {
					// Nobody answered: the next round's worker is audited as the first was.
					record.audit = Audit::Undecided;
				}
				record.status = JobStatus::Escalating { needed };
				record.deadline = now.saturating_add(T::MaxAssignmentDelay::get());
				Jobs::<T>::insert(job, record);
				RetryQueue::<T>::push(counters, job);
				Self::deposit_event(Event::JobEscalated { job, round, seats: needed });
				slashed
			},
			_ => slashed.saturating_add(Self::finish(job, record, now, Verdict::NoQuorum)),
		}
	}

	/// Ends a job whose seats could not be assigned before its deadline: a new job expires
	/// (its record goes at once, with its deposit), an escalation ends without a majority.
	/// Returns how many seats were slashed.
	pub(crate) fn conclude(
		job: JobId,
		record: Job<T>,
		now: BlockNumberFor<T>,
		counters: &mut Counters,
	) -> u32 {
		if record.seats.is_empty() {
			Self::deposit_event(Event::JobExpired { job });
			let refunded = Self::release_escrow(&record, record.escrow);
			if !refunded.is_zero() {
				Self::deposit_event(Event::EscrowRefunded {
					job,
					requester: record.requester.clone(),
					amount: refunded,
				});
			}
			// Nothing to keep: an expired job's record does not wait for the retention period.
			let deposit = Self::release_deposit(&record);
			Jobs::<T>::remove(job);
			counters.stored = counters.stored.saturating_sub(1);
			Self::deposit_event(Event::JobRemoved { job, deposit });
			0
		} else {
			// A worker whose audit found no auditor in time committed and was never let
			// reveal: released without a verdict.
			for seat in record
				.seats
				.iter()
				.filter(|seat| seat.round == record.round && seat.revealed.is_none())
			{
				T::Workers::note_settled(&seat.worker, job, None);
			}
			Self::finish(job, record, now, Verdict::NoQuorum)
		}
	}

	/// Settles a job with `verdict`, Accepted or NoQuorum: pays the agreeing seats and slashes
	/// the other reveals (Accepted) or pays and slashes nobody (NoQuorum); refunds the rest of the escrow; releases every
	/// seat still held; keeps only the accepted output. Infallible: a payment that cannot be
	/// made stays in escrow and returns to the requester with the rest. Returns how many seats
	/// were slashed.
	fn finish(job: JobId, mut record: Job<T>, now: BlockNumberFor<T>, verdict: Verdict) -> u32 {
		let mut slashed = 0u32;
		let accepted = match verdict {
			Verdict::Accepted { output_hash } => {
				Self::pay_agreeing(job, &mut record, output_hash);
				for seat in record.seats.iter() {
					if seat.revealed.is_some_and(|hash| hash != output_hash) {
						Self::slash_seat(job, &seat.worker, SlashReason::WrongResult);
						slashed = slashed.saturating_add(1);
					}
				}
				Some(output_hash)
			},
			_ => {
				let output_hashes = Self::distinct_reveals(&record);
				Self::deposit_event(Event::JobNoQuorum { job, output_hashes });
				None
			},
		};
		// Only the accepted output is kept; the hashes stay in the events. The seats name every
		// stored output.
		for hash in Self::distinct_reveals(&record) {
			if Some(hash) != accepted {
				Outputs::<T>::remove(job, hash);
			}
		}
		let refunded = Self::release_escrow(&record, record.escrow);
		record.escrow = record.escrow.saturating_sub(refunded);
		if !refunded.is_zero() {
			Self::deposit_event(Event::EscrowRefunded {
				job,
				requester: record.requester.clone(),
				amount: refunded,
			});
		}
		// The seats that did not reveal were released when their round ended.
		for seat in record.seats.iter() {
			let Some(hash) = seat.revealed else { continue };
			let outcome = match accepted {
				Some(accepted) if hash == accepted => Some(Outcome::Accepted),
				Some(_) => Some(Outcome::WrongResult),
				// Disagreement without a majority: no verdict on anyone.
				None => None,
			};
			T::Workers::note_settled(&seat.worker, job, outcome);
		}
		record.status = JobStatus::Settled { at: now, verdict };
		// Removal reaches it in id order once its retention period is over.
		Jobs::<T>::insert(job, record);
		slashed
	}

	/// Counts the reveals of every round.
	fn tally(record: &Job<T>) -> Tally {
		let mut top: Option<(OutputHash, u32)> = None;
		let mut revealed = 0u32;
		for hash in record.seats.iter().filter_map(|seat| seat.revealed) {
			revealed = revealed.saturating_add(1);
			let votes =
				record.seats.iter().filter(|seat| seat.revealed == Some(hash)).count() as u32;
			if top.is_none_or(|(_, most)| votes > most) {
				top = Some((hash, votes));
			}
		}
		Tally { top, revealed }
	}

	/// The distinct output hashes the seats revealed, in seat order: one stored output each.
	pub(crate) fn distinct_reveals(record: &Job<T>) -> BoundedVec<OutputHash, T::MaxSeats> {
		let mut hashes: BoundedVec<OutputHash, T::MaxSeats> = BoundedVec::new();
		for hash in record.seats.iter().filter_map(|seat| seat.revealed) {
			if !hashes.contains(&hash) {
				let _ = hashes.try_push(hash);
			}
		}
		hashes
	}

	/// Slashes `worker` for `reason` in `job`; the stake goes to the treasury.
	fn slash_seat(job: JobId, worker: &T::AccountId, reason: SlashReason) {
		let fraction = match reason {
			SlashReason::WrongResult => T::WrongResultSlash::get(),
			SlashReason::NoShow => T::NoShowSlash::get(),
		};
		let amount = T::Workers::slash(worker, fraction);
		Self::deposit_event(Event::WorkerSlashed { worker: worker.clone(), job, amount, reason });
	}

	/// Pays each seat that revealed `output_hash` its price out of the requester's escrow, and
	/// the protocol fee on all of them to the treasury in one transfer.
	fn pay_agreeing(job: JobId, record: &mut Job<T>, output_hash: OutputHash) {
		let mut agreeing: BoundedVec<(T::AccountId, BalanceOf<T>), T::MaxSeats> = BoundedVec::new();
		let mut paid = BalanceOf::<T>::zero();
		let mut owed_fees = BalanceOf::<T>::zero();
		for seat in record.seats.iter().filter(|seat| seat.revealed == Some(output_hash)) {
			let payment =
				Self::pay_from_escrow(&record.requester, &seat.worker, record.price_per_replica);
			paid = paid.saturating_add(payment);
			if !payment.is_zero() {
				owed_fees = owed_fees.saturating_add(record.fee_per_replica);
			}
			let _ = agreeing.try_push((seat.worker.clone(), payment));
		}
		let fees =
			Self::pay_from_escrow(&record.requester, &T::Rewards::fee_destination(), owed_fees);
		record.escrow = record.escrow.saturating_sub(paid).saturating_sub(fees);
		// A fee that could not move is not counted as earned by anyone.
		let fee_paid = fees == owed_fees;
		for (worker, payment) in agreeing.iter() {
			let fee =
				if fee_paid && !payment.is_zero() { record.fee_per_replica } else { Zero::zero() };
			T::Rewards::note_paid_work(worker, *payment, fee);
		}
		Self::deposit_event(Event::JobAccepted {
			job,
			output_hash,
			agreeing_workers: BoundedVec::truncate_from(
				agreeing.into_iter().map(|(worker, _)| worker).collect::<Vec<_>>(),
			),
			paid,
			fee: fees,
		});
	}

	/// Moves `amount` from the requester's escrow to `dest`; returns what moved.
	pub(crate) fn pay_from_escrow(
		requester: &T::AccountId,
		dest: &T::AccountId,
		amount: BalanceOf<T>,
	) -> BalanceOf<T> {
		commons_primitives::pay_from_hold::<_, T::Currency>(
			&HoldReason::Escrow.into(),
			requester,
			dest,
			amount,
			Precision::Exact,
		)
	}
}
