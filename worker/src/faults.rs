//! Misbehaviour on purpose, so that tests can show the chain catching it. Compiled only with the
//! `fault-injection` feature, into the `commons-worker-faulty` binary; `commons-worker` itself
//! cannot cheat.

use commons_primitives::TokenId;

/// How a faulty worker cheats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Fault {
	/// Commit to and reveal an output that differs from the honest one in its last token.
	WrongOutput,
	/// Run the job and commit honestly, then never reveal.
	NeverReveal,
	/// Skip the work: commit a copy of another seat's commitment as soon as one is on chain.
	CopyCommitment,
}

impl Fault {
	/// Whether a worker with this fault sends no reveal.
	///
	/// A copier could not open its commitment even if it tried: the commitment hashes the
	/// committer's own account, so the copy matches no output this account can reveal.
	pub fn withholds_reveal(self) -> bool {
		matches!(self, Fault::NeverReveal | Fault::CopyCommitment)
	}
}

/// Turns an honest output into a wrong one of the same length (one token for an empty output).
pub fn falsify(output: &mut Vec<TokenId>) {
	match output.last_mut() {
		Some(token) => *token = token.wrapping_add(1),
		None => output.push(0),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_falsified_output_differs_and_keeps_its_length() {
		let honest = vec![7, 8, 9];
		let mut wrong = honest.clone();
		falsify(&mut wrong);
		assert_ne!(wrong, honest);
		assert_eq!(wrong.len(), honest.len());
		let mut empty = Vec::new();
		falsify(&mut empty);
		assert_eq!(empty, vec![0]);
	}
}
