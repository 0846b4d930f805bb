//! Settlement: who is paid, who is slashed, what returns to the requester.

use crate::*;
use commons_primitives::Outcome;

impl<T: Config> Pallet<T> {
	/// Settles a job: Expired if it never got workers, otherwise Accepted or NoQuorum by the
	/// reveals. Infallible: a payment that cannot be made stays in escrow and returns to the
	/// requester with the rest. Returns how many seats were slashed (each slash is weighed
	/// apart: an honest job slashes none).
	pub(crate) fn settle(job: JobId, mut record: Job<T>, now: BlockNumberFor<T>) -> u32 {
		let mut slashed = 0;
		let mut accepted = None;
		let verdict = if record.seats.is_empty() {
			Self::deposit_event(Event::JobExpired { job });
			Verdict::Expired
		} else {
			match Self::majority(&record) {
				Some(output_hash) => {
					accepted = Some(output_hash);
					Self::pay_agreeing(job, &mut record, output_hash);
					slashed = Self::slash_others(job, &record, Some(output_hash));
					Verdict::Accepted { output_hash }
				},
				None => {
					let output_hashes = Self::distinct_reveals(&record);
					Self::deposit_event(Event::JobNoQuorum { job, output_hashes });
					slashed = Self::slash_others(job, &record, None);
					Verdict::NoQuorum
				},
			}
		};
		if let Verdict::Accepted { output_hash } = verdict {
			// Only the agreed output is kept. The seats name every stored output.
			for hash in Self::distinct_reveals(&record) {
				if hash != output_hash {
					Outputs::<T>::remove(job, hash);
				}
			}
		}
		let refund = record.escrow;
		let refunded = Self::release_escrow(&record, refund);
		record.escrow = record.escrow.saturating_sub(refunded);
		if !refunded.is_zero() {
			Self::deposit_event(Event::EscrowRefunded {
				job,
				requester: record.requester.clone(),
				amount: refunded,
			});
		}
		for seat in record.seats.iter() {
			T::Workers::note_settled(&seat.worker, job, Self::seat_outcome(seat, accepted));
		}
		record.status = JobStatus::Settled { at: now, verdict };
		// Removal reaches it in id order once its retention period is over.
		Jobs::<T>::insert(job, record);
		slashed
	}

	/// The distinct output hashes the seats revealed, in seat order: one stored output each.
	fn distinct_reveals(record: &Job<T>) -> BoundedVec<OutputHash, T::MaxSeats> {
		let mut hashes: BoundedVec<OutputHash, T::MaxSeats> = BoundedVec::new();
		for hash in record.seats.iter().filter_map(|seat| seat.revealed) {
			if !hashes.contains(&hash) {
				let _ = hashes.try_push(hash);
			}
		}
		hashes
	}

	/// The output hash revealed by more than half of the seats, if any.
	fn majority(record: &Job<T>) -> Option<OutputHash> {
		let seats = record.seats.len();
		record.seats.iter().filter_map(|seat| seat.revealed).find(|hash| {
			let votes = record.seats.iter().filter(|seat| seat.revealed == Some(*hash)).count();
			votes.saturating_mul(2) > seats
		})
	}

	/// What a seat's reveal counts as in its worker's reputation, given the accepted output if
	/// there is one: a different reveal is wrong only when there is an accepted output.
	fn seat_outcome(seat: &Seat<T::AccountId>, accepted: Option<OutputHash>) -> Option<Outcome> {
		match (seat.revealed, accepted) {
			(None, _) => Some(Outcome::NoShow),
			(Some(hash), Some(accepted)) if hash == accepted => Some(Outcome::Accepted),
			(Some(_), Some(_)) => Some(Outcome::WrongResult),
			(Some(_), None) => None,
		}
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

	/// Slashes every seat that did not reveal `accepted`: a different reveal is a wrong result
	/// (only when there is an accepted output), a missing commit or reveal is a no-show. The
	/// requester is compensated first, up to the seat's price. Returns how many were slashed.
	fn slash_others(job: JobId, record: &Job<T>, accepted: Option<OutputHash>) -> u32 {
		let mut compensation = BalanceOf::<T>::zero();
		let mut slashed_seats = 0u32;
		for seat in record.seats.iter() {
			let (reason, fraction) = match Self::seat_outcome(seat, accepted) {
				Some(Outcome::WrongResult) => {
					(SlashReason::WrongResult, T::WrongResultSlash::get())
				},
				Some(Outcome::NoShow) => (SlashReason::NoShow, T::NoShowSlash::get()),
				// Agreement, or disagreement without a majority (which may be a determinism bug).
				Some(Outcome::Accepted) | None => continue,
			};
			let slashed = T::Workers::slash(
				&seat.worker,
				fraction,
				&record.requester,
				record.price_per_replica,
			);
			slashed_seats = slashed_seats.saturating_add(1);
			compensation = compensation.saturating_add(slashed.to_beneficiary);
			Self::deposit_event(Event::WorkerSlashed {
				worker: seat.worker.clone(),
				job,
				amount: slashed.total,
				reason,
			});
		}
		if !compensation.is_zero() {
			Self::deposit_event(Event::RequesterCompensated {
				job,
				requester: record.requester.clone(),
				amount: compensation,
			});
		}
		slashed_seats
	}

	/// Moves `amount` from the requester's escrow to `dest`; returns what moved.
	fn pay_from_escrow(
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
