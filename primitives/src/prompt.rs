//! What a job's prompt bytes mean (docs/protocol.md, "Prompts").
//!
//! A prompt is either text, read as UTF-8 with invalid sequences replaced and rendered as one
//! user message, or a conversation: the byte [`CONVERSATION_TAG`] followed by the SCALE encoding
//! of its messages, each a role and UTF-8 content, rendered turn by turn with the model's chat
//! template. The chain refuses a conversation that does not decode exactly, so every worker reads
//! the same messages from the same bytes.

use alloc::vec::Vec;
use codec::{Compact, Decode, Encode};

/// The first byte of a conversation. Text prompts never start with it (a NUL character).
pub const CONVERSATION_TAG: u8 = 0;

/// The most messages a conversation holds. Each message costs its template a few tokens more
/// than its two bytes of framing; this bound keeps a whole conversation within the template
/// allowance of [`crate::PROMPT_TEMPLATE_TOKENS`].
pub const MAX_MESSAGES: u32 = 8;

/// Who speaks a message.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
	/// Instructions for the assistant.
	System,
	/// The requester.
	User,
	/// The model (earlier turns).
	Assistant,
}

/// One turn of a conversation.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub struct Message {
	/// Who speaks it.
	pub role: Role,
	/// What is said, UTF-8.
	pub content: Vec<u8>,
}

/// A prompt, read.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Prompt<'a> {
	/// Text: one user message.
	Text(&'a [u8]),
	/// A conversation, in order.
	Conversation(Vec<Message>),
}

/// Why prompt bytes tagged as a conversation are not one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PromptError {
	/// No messages.
	EmptyConversation,
	/// More than [`MAX_MESSAGES`] messages.
	TooManyMessages,
	/// The bytes are not exactly the SCALE encoding of the messages (truncated, an unknown
	/// role, or bytes left over).
	Malformed,
	/// A message's content is not UTF-8.
	NotUtf8,
}

/// Reads prompt bytes: a conversation if they start with [`CONVERSATION_TAG`], text otherwise.
pub fn parse(bytes: &[u8]) -> Result<Prompt<'_>, PromptError> {
	let Some((&CONVERSATION_TAG, mut rest)) = bytes.split_first() else {
		return Ok(Prompt::Text(bytes));
	};
	// The count is read first and bounded, so that no length prefix sizes an allocation.
	let count = Compact::<u32>::decode(&mut rest).map_err(|_| PromptError::Malformed)?.0;
	if count == 0 {
		return Err(PromptError::EmptyConversation);
	}
	if count > MAX_MESSAGES {
		return Err(PromptError::TooManyMessages);
	}
	let mut messages = Vec::new();
	for _ in 0..count {
		let message = Message::decode(&mut rest).map_err(|_| PromptError::Malformed)?;
		if core::str::from_utf8(&message.content).is_err() {
			return Err(PromptError::NotUtf8);
		}
		messages.push(message);
	}
	if !rest.is_empty() {
		return Err(PromptError::Malformed);
	}
	Ok(Prompt::Conversation(messages))
}

/// The prompt bytes of a conversation: [`CONVERSATION_TAG`] and the messages' SCALE encoding.
pub fn encode_conversation(messages: &[Message]) -> Vec<u8> {
	let mut bytes = Vec::new();
	bytes.push(CONVERSATION_TAG);
	messages.encode_to(&mut bytes);
	bytes
}

#[cfg(test)]
mod tests {
	use super::*;

	fn message(role: Role, content: &str) -> Message {
		Message { role, content: content.as_bytes().to_vec() }
	}

	#[test]
	fn text_is_text() {
		assert_eq!(parse(b"hello"), Ok(Prompt::Text(b"hello")));
		assert_eq!(parse(b""), Ok(Prompt::Text(b"")));
	}

	#[test]
	fn a_conversation_round_trips() {
		let messages = vec![
			message(Role::System, "Be brief."),
			message(Role::User, "Hi"),
			message(Role::Assistant, "Hello!"),
			message(Role::User, "What is 2+2?"),
		];
		let bytes = encode_conversation(&messages);
		assert_eq!(bytes[0], CONVERSATION_TAG);
		assert_eq!(parse(&bytes), Ok(Prompt::Conversation(messages)));
	}

	#[test]
	fn malformed_conversations_are_refused() {
		assert_eq!(parse(&[CONVERSATION_TAG]), Err(PromptError::Malformed));
		assert_eq!(parse(&encode_conversation(&[])), Err(PromptError::EmptyConversation));
		let nine = vec![message(Role::User, "x"); MAX_MESSAGES as usize + 1];
		assert_eq!(parse(&encode_conversation(&nine)), Err(PromptError::TooManyMessages));
		let mut trailing = encode_conversation(&[message(Role::User, "x")]);
		trailing.push(1);
		assert_eq!(parse(&trailing), Err(PromptError::Malformed));
		let mut truncated = encode_conversation(&[message(Role::User, "hello")]);
		truncated.pop();
		assert_eq!(parse(&truncated), Err(PromptError::Malformed));
		let mut unknown_role = encode_conversation(&[message(Role::User, "x")]);
		unknown_role[2] = 3;
		assert_eq!(parse(&unknown_role), Err(PromptError::Malformed));
		let bad_utf8 = encode_conversation(&[Message { role: Role::User, content: vec![0xff] }]);
		assert_eq!(parse(&bad_utf8), Err(PromptError::NotUtf8));
		// A count far beyond the bytes present is refused before anything is allocated.
		let mut huge = vec![CONVERSATION_TAG];
		Compact(u32::MAX).encode_to(&mut huge);
		assert_eq!(parse(&huge), Err(PromptError::TooManyMessages));
	}
}
