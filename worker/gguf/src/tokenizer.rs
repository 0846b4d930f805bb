//! The tokenizer, built from a GGUF file's metadata: byte-level BPE as Hugging Face `tokenizers`
//! runs it for SmolLM2, its control tokens, and the ChatML chat template.
//!
//! Encoding follows `tokenizers` step by step:
//!
//! 1. control tokens (`<|im_start|>`…) are cut out of the text first, when the caller allows them,
//!    and user-defined tokens always (Hugging Face's added tokens);
//! 2. every numeric character stands alone (`Digits(individual_digits = true)`);
//! 3. each piece is split by the GPT-2 pattern (`ByteLevel`, no prefix space);
//! 4. each word's UTF-8 bytes become the GPT-2 byte-to-unicode characters, one symbol each, and
//!    merges apply lowest rank first, leftmost first among equal ranks. A byte that has no token
//!    of its own is dropped (see [`Tokenizer::unk_id`]).
//!
//! The GPT-2 pattern ends in `\s+(?!\S)|\s+`: a run of whitespace followed by something else gives
//! its last whitespace character to what follows. The `regex` crate has no look-ahead, so the
//! pattern here ends in `\s+` and [`Tokenizer`] shortens such a run by one character itself.
//!
//! Nothing is cached across calls: a [`Tokenizer`] is immutable once built, and `Send + Sync`.

use std::{
	cmp::Reverse,
	collections::{BTreeMap, BinaryHeap, HashMap},
	fmt,
	hash::{BuildHasherDefault, Hasher},
};

use regex::Regex;

use crate::gguf::{GgufFile, Value};

/// The GPT-2 pre-tokenizer pattern without its final look-ahead alternative (see the module
/// documentation).
pub const GPT2_PATTERN: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+";

/// The only `tokenizer.ggml.model` this tokenizer implements.
pub const SUPPORTED_MODEL: &str = "gpt2";

/// Metadata keys read.
pub mod keys {
	/// The tokenizer's kind (`gpt2` for byte-level BPE).
	pub const MODEL: &str = "tokenizer.ggml.model";
	/// The vocabulary, one string per token id.
	pub const TOKENS: &str = "tokenizer.ggml.tokens";
	/// The merges, `"left right"`, by rank.
	pub const MERGES: &str = "tokenizer.ggml.merges";
	/// The type of each token (llama.cpp's `llama_token_type`).
	pub const TOKEN_TYPE: &str = "tokenizer.ggml.token_type";
	/// Beginning of sequence.
	pub const BOS: &str = "tokenizer.ggml.bos_token_id";
	/// End of sequence.
	pub const EOS: &str = "tokenizer.ggml.eos_token_id";
	/// Padding.
	pub const PAD: &str = "tokenizer.ggml.padding_token_id";
	/// Unknown input.
	pub const UNK: &str = "tokenizer.ggml.unknown_token_id";
	/// The Jinja chat template.
	pub const CHAT_TEMPLATE: &str = "tokenizer.chat_template";
}

/// Why a tokenizer cannot be built, or a request cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
	/// A required metadata key is absent.
	#[error("tokenizer metadata `{0}` is missing")]
	MissingKey(String),
	/// A metadata value of the wrong type.
	#[error("tokenizer metadata `{key}` is not {expected}")]
	WrongType {
		/// The key.
		key: String,
		/// What it should be.
		expected: &'static str,
	},
	/// A tokenizer other than byte-level BPE.
	#[error("tokenizer model `{0}` is not supported (only \"gpt2\", byte-level BPE)")]
	UnsupportedModel(String),
	/// No tokens at all, or more than token ids can number.
	#[error("the vocabulary has {0} tokens (1 to 2^32 supported)")]
	BadVocabularySize(usize),
	/// A per-token array whose length is not the vocabulary's.
	#[error("tokenizer metadata `{key}` has {len} entries, the vocabulary {vocab_size}")]
	LengthMismatch {
		/// The key.
		key: String,
		/// Its number of entries.
		len: usize,
		/// The number of tokens.
		vocab_size: usize,
	},
	/// A merge that is not two tokens separated by one space.
	#[error("merge {index} (`{merge}`) is not two tokens separated by a space")]
	MalformedMerge {
		/// Its rank.
		index: usize,
		/// The merge.
		merge: String,
	},
	/// A merge naming a token, or producing one, that the vocabulary lacks.
	#[error("merge {index} (`{merge}`) needs `{token}`, which is not in the vocabulary")]
	UnknownMergeToken {
		/// Its rank.
		index: usize,
		/// The merge.
		merge: String,
		/// The missing token.
		token: String,
	},
	/// A special token id beyond the vocabulary.
	#[error("tokenizer metadata `{key}` is token {id}, outside the vocabulary of {vocab_size}")]
	SpecialIdOutOfRange {
		/// The key.
		key: String,
		/// The id.
		id: u64,
		/// The number of tokens.
		vocab_size: usize,
	},
	/// A token id beyond the vocabulary, given to decode.
	#[error("token id {id} is outside the vocabulary of {vocab_size} tokens")]
	TokenOutOfRange {
		/// The id.
		id: u32,
		/// The number of tokens.
		vocab_size: usize,
	},
	/// A chat template this crate cannot reproduce (it implements ChatML, not Jinja).
	#[error("chat template is not supported: {0}")]
	UnsupportedChatTemplate(String),
	/// The control tokens could not be compiled into a matcher (too large a pattern).
	#[error("cannot build the special-token matcher: {0}")]
	Pattern(#[from] regex::Error),
}

/// Result of this module.
pub type Result<T> = std::result::Result<T, TokenizerError>;

/// What a token is (`tokenizer.ggml.token_type`, llama.cpp's numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
	/// 0: not set.
	Undefined,
	/// 1: an ordinary token, produced by merges.
	Normal,
	/// 2: the unknown token.
	Unknown,
	/// 3: a control token (`<|im_start|>`): matched whole when the caller allows special tokens.
	Control,
	/// 4: a user-defined token: always matched whole, like Hugging Face's non-special added tokens.
	UserDefined,
	/// 5: unused.
	Unused,
	/// 6: a byte token (SentencePiece byte fallback; unused by byte-level BPE).
	Byte,
}

impl TokenType {
	fn from_code(code: i64) -> Option<Self> {
		Some(match code {
			0 => Self::Undefined,
			1 => Self::Normal,
			2 => Self::Unknown,
			3 => Self::Control,
			4 => Self::UserDefined,
			5 => Self::Unused,
			6 => Self::Byte,
			_ => return None,
		})
	}
}

/// Hashes the packed `(left, right)` token pair of a merge (one multiply, as FxHash does): the
/// keys are small integers from the file, not an attacker's choice of hash-flooding input.
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
	fn finish(&self) -> u64 {
		self.0
	}

	fn write(&mut self, bytes: &[u8]) {
		for &byte in bytes {
			self.0 =
				(self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
		}
	}

	fn write_u64(&mut self, value: u64) {
		self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
	}
}

type PairMap = HashMap<u64, Merge, BuildHasherDefault<PairHasher>>;

fn pair(left: u32, right: u32) -> u64 {
	(u64::from(left) << 32) | u64::from(right)
}

/// A merge's rank and the token it makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Merge {
	rank: u32,
	id: u32,
}

/// The GPT-2 byte-to-unicode map: printable Latin-1 bytes stand for themselves, the others for
/// the code points from U+0100 on, in byte order.
fn byte_to_char() -> [char; 256] {
	let mut map = ['\0'; 256];
	let mut next = 256u32;
	for (byte, slot) in (0u32..).zip(map.iter_mut()) {
		let printable = (0x21..=0x7e).contains(&byte)
			|| (0xa1..=0xac).contains(&byte)
			|| (0xae..=0xff).contains(&byte);
		let code = if printable {
			byte
		} else {
			next += 1;
			next - 1
		};
		*slot = char::from_u32(code).unwrap_or('\0');
	}
	map
}

/// A role in a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
	/// Instructions for the assistant.
	System,
	/// The person.
	User,
	/// The model.
	Assistant,
}

impl Role {
	/// The role's name in the template (`system`, `user`, `assistant`).
	pub fn as_str(self) -> &'static str {
		match self {
			Role::System => "system",
			Role::User => "user",
			Role::Assistant => "assistant",
		}
	}
}

impl From<commons_primitives::prompt::Role> for Role {
	fn from(role: commons_primitives::prompt::Role) -> Self {
		use commons_primitives::prompt::Role as Turn;
		match role {
			Turn::System => Role::System,
			Turn::User => Role::User,
			Turn::Assistant => Role::Assistant,
		}
	}
}

impl fmt::Display for Role {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(self.as_str())
	}
}

const IM_START: &str = "<|im_start|>";
const IM_END: &str = "<|im_end|>";

/// A ChatML chat template, as recognised in `tokenizer.chat_template`:
///
/// ```text
/// <|im_start|>{role}\n{content}<|im_end|>\n      for each message
/// <|im_start|>assistant\n                         when a generation prompt is asked for
/// ```
///
/// with, where the template has one, a default system message put first when the first message
/// is not a system message (SmolLM2: "You are a helpful AI assistant named SmolLM, trained by
/// Hugging Face").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatTemplate {
	default_system: Option<String>,
}

/// A piece of a rendered chat: the two ChatML control tokens, or text.
enum Piece<'a> {
	Start,
	End,
	Text(&'a str),
}

impl ChatTemplate {
	/// Plain ChatML with no default system message.
	pub fn chatml() -> Self {
		Self { default_system: None }
	}

	/// ChatML with a default system message.
	pub fn with_default_system(prompt: impl Into<String>) -> Self {
		Self { default_system: Some(prompt.into()) }
	}

	/// Recognises a Jinja chat template as ChatML, or says why it is not.
	///
	/// No Jinja engine runs: the template's tags are read (with `transformers`' whitespace rules,
	/// `trim_blocks` and `lstrip_blocks`) and must have exactly the shape of the ChatML template
	/// above, optional default system message included; any other template is refused.
	pub fn parse(template: &str) -> Result<Self> {
		template::recognise(template).map_err(TokenizerError::UnsupportedChatTemplate)
	}

	/// The default system message, if the template has one.
	pub fn default_system_prompt(&self) -> Option<&str> {
		self.default_system.as_deref()
	}

	fn pieces<'a>(
		&'a self,
		messages: &[(Role, &'a str)],
		add_generation_prompt: bool,
	) -> Vec<Piece<'a>> {
		let mut pieces = Vec::with_capacity(messages.len() * 6 + 6);
		let message = |pieces: &mut Vec<Piece<'a>>, role: &'static str, content: &'a str| {
			pieces.extend([
				Piece::Start,
				Piece::Text(role),
				Piece::Text("\n"),
				Piece::Text(content),
				Piece::End,
				Piece::Text("\n"),
			]);
		};
		if let (Some(system), Some((first, _))) = (&self.default_system, messages.first()) {
			if *first != Role::System {
				message(&mut pieces, "system", system);
			}
		}
		for (role, content) in messages {
			message(&mut pieces, role.as_str(), content);
		}
		if add_generation_prompt {
			pieces.extend([Piece::Start, Piece::Text("assistant\n")]);
		}
		pieces
	}

	/// The prompt text for `messages`, exactly as the template renders it.
	pub fn render(&self, messages: &[(Role, &str)], add_generation_prompt: bool) -> String {
		let mut out = String::new();
		for piece in self.pieces(messages, add_generation_prompt) {
			out.push_str(match piece {
				Piece::Start => IM_START,
				Piece::End => IM_END,
				Piece::Text(text) => text,
			});
		}
		out
	}
}

/// Recognition of ChatML Jinja templates, without a Jinja engine.
mod template {
	use super::{ChatTemplate, IM_END, IM_START};

	#[derive(Clone, Copy, PartialEq, Eq)]
	enum Kind {
		Block,
		Variable,
		Comment,
	}

	struct Tag {
		kind: Kind,
		inner: String,
		trim_left: bool,
		trim_right: bool,
	}

	/// The template's tags, with the text between them, which must render as nothing.
	fn tags(template: &str) -> Result<Vec<Tag>, String> {
		let mut texts = Vec::new();
		let mut tags: Vec<Tag> = Vec::new();
		let mut rest = template;
		loop {
			let Some(open) = ["{{", "{%", "{#"].iter().filter_map(|o| rest.find(o)).min() else {
				texts.push(rest);
				break;
			};
			texts.push(&rest[..open]);
			let (kind, close) = match &rest[open..open + 2] {
				"{{" => (Kind::Variable, "}}"),
				"{%" => (Kind::Block, "%}"),
				_ => (Kind::Comment, "#}"),
			};
			let body = &rest[open + 2..];
			// The end of the tag, outside string literals.
			let mut quote = None;
			let mut escaped = false;
			let mut end = None;
			for (i, c) in body.char_indices() {
				match quote {
					Some(_) if escaped => escaped = false,
					Some(_) if c == '\\' => escaped = true,
					Some(q) if c == q => quote = None,
					Some(_) => {},
					None if kind != Kind::Comment && (c == '\'' || c == '"') => quote = Some(c),
					None if body[i..].starts_with(close) => {
						end = Some(i);
						break;
					},
					None => {},
				}
			}
			let end = end.ok_or_else(|| {
				format!("a tag opened with `{}` is never closed", &rest[open..open + 2])
			})?;
			let mut inner = &body[..end];
			let trim_left = inner.starts_with('-');
			let trim_right = inner.ends_with('-') && inner.len() > usize::from(trim_left);
			if trim_left {
				inner = &inner[1..];
			}
			if trim_right {
				inner = &inner[..inner.len() - 1];
			}
			tags.push(Tag { kind, inner: inner.to_string(), trim_left, trim_right });
			rest = &body[end + 2..];
		}
		// Text between tags, as Jinja renders it with trim_blocks and lstrip_blocks: both rules
		// look at the text as written, so the kept range is worked out on it.
		let blank = |text: &str| text.chars().all(|c| c == ' ' || c == '\t');
		for (i, &written) in texts.iter().enumerate() {
			let mut start = 0;
			let mut end = written.len();
			if let Some(before) = i.checked_sub(1).and_then(|b| tags.get(b)) {
				if before.trim_right {
					start = written.len() - written.trim_start().len();
				} else if before.kind != Kind::Variable {
					// trim_blocks: the first newline after a block tag.
					start = [("\r\n", 2), ("\n", 1)]
						.iter()
						.find(|(newline, _)| written.starts_with(newline))
						.map_or(0, |(_, len)| *len);
				}
			}
			if let Some(after) = tags.get(i) {
				if after.trim_left {
					end = written.trim_end().len();
				} else if after.kind != Kind::Variable {
					// lstrip_blocks: spaces and tabs from the start of a line to a block tag.
					match written.rfind('\n') {
						Some(newline) if blank(&written[newline + 1..]) => end = newline + 1,
						None if i == 0 && blank(written) => end = 0,
						_ => {},
					}
				}
			}
			let text = written.get(start..end).unwrap_or("");
			if !text.is_empty() {
				return Err(format!("it writes text outside its tags: {text:?}"));
			}
		}
		tags.retain(|tag| tag.kind != Kind::Comment);
		Ok(tags)
	}

	#[derive(Clone, Debug, PartialEq, Eq)]
	enum Token {
		Str(String),
		Sym(String),
	}

	fn sym(text: &str) -> Token {
		Token::Sym(text.to_string())
	}

	/// An expression's tokens; `x['field']` reads as `x.field`.
	fn expression(inner: &str) -> Result<Vec<Token>, String> {
		let mut tokens = Vec::new();
		let mut chars = inner.char_indices().peekable();
		while let Some((start, c)) = chars.next() {
			if c.is_whitespace() {
				continue;
			}
			if c == '\'' || c == '"' {
				let mut value = String::new();
				let mut closed = false;
				while let Some((_, c2)) = chars.next() {
					match c2 {
						'\\' => match chars.next().map(|(_, e)| e) {
							Some('n') => value.push('\n'),
							Some('t') => value.push('\t'),
							Some('r') => value.push('\r'),
							Some(e @ ('\\' | '\'' | '"')) => value.push(e),
							Some(e) => {
								value.push('\\');
								value.push(e);
							},
							None => break,
						},
						q if q == c => {
							closed = true;
							break;
						},
						other => value.push(other),
					}
				}
				if !closed {
					return Err(format!("unterminated string in `{inner}`"));
				}
				tokens.push(Token::Str(value));
			} else if c.is_alphanumeric() || c == '_' {
				let mut end = start + c.len_utf8();
				while let Some(&(i, c2)) = chars.peek() {
					if !(c2.is_alphanumeric() || c2 == '_') {
						break;
					}
					end = i + c2.len_utf8();
					chars.next();
				}
				tokens.push(sym(&inner[start..end]));
			} else if (c == '!' || c == '=') && chars.peek().is_some_and(|&(_, n)| n == '=') {
				chars.next();
				tokens.push(Token::Sym(format!("{c}=")));
			} else {
				tokens.push(Token::Sym(c.to_string()));
			}
		}
		// `[ 'name' ]` → `. name`
		let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
		let mut i = 0;
		while i < tokens.len() {
			if let [Token::Sym(open), Token::Str(name), Token::Sym(close)] =
				&tokens[i..tokens.len().min(i + 3)]
			{
				if open == "["
					&& close == "]" && name.chars().all(|c| c.is_alphanumeric() || c == '_')
				{
					out.extend([sym("."), sym(name)]);
					i += 3;
					continue;
				}
			}
			out.push(tokens[i].clone());
			i += 1;
		}
		Ok(out)
	}

	fn words(text: &str) -> Vec<Token> {
		expression(text).unwrap_or_default()
	}

	/// What `message.role` or `message.content` stands for in a message expression.
	#[derive(Debug, PartialEq, Eq)]
	enum Part {
		Literal(String),
		Role,
		Content,
	}

	/// The parts of `a + b + …` (or `a ~ b ~ …`), adjacent literals joined.
	fn concatenation(tokens: &[Token]) -> Option<Vec<Part>> {
		let mut parts: Vec<Part> = Vec::new();
		for term in tokens.split(|t| *t == sym("+") || *t == sym("~")) {
			let part = match term {
				[Token::Str(text)] => Part::Literal(text.clone()),
				[Token::Sym(m), Token::Sym(dot), Token::Sym(field)]
					if m == "message" && dot == "." =>
				{
					match field.as_str() {
						"role" => Part::Role,
						"content" => Part::Content,
						_ => return None,
					}
				},
				_ => return None,
			};
			match (parts.last_mut(), part) {
				(Some(Part::Literal(last)), Part::Literal(text)) => last.push_str(&text),
				(_, part) => parts.push(part),
			}
		}
		Some(parts)
	}

	fn literal(tag: Option<&Tag>) -> Option<String> {
		let tag = tag.filter(|tag| tag.kind == Kind::Variable)?;
		match concatenation(&expression(&tag.inner).ok()?)?.as_slice() {
			[Part::Literal(text)] => Some(text.clone()),
			_ => None,
		}
	}

	fn is_block(tag: Option<&Tag>, expected: &str) -> bool {
		tag.is_some_and(|tag| {
			tag.kind == Kind::Block && expression(&tag.inner).ok() == Some(words(expected))
		})
	}

	pub(super) fn recognise(template: &str) -> Result<ChatTemplate, String> {
		let tags = tags(template)?;
		let mut at = tags.iter().peekable();
		let not_chatml = |what: &str| format!("not recognisable ChatML: {what}");
		if !is_block(at.next(), "for message in messages") {
			return Err(not_chatml("it does not start with `{% for message in messages %}`"));
		}
		let mut default_system = None;
		if is_block(at.peek().copied(), "if loop.first and messages[0].role != 'system'") {
			at.next();
			let system = literal(at.next())
				.ok_or_else(|| not_chatml("the default system message is not a string"))?;
			let prompt = system
				.strip_prefix(&format!("{IM_START}system\n"))
				.and_then(|rest| rest.strip_suffix(&format!("{IM_END}\n")))
				.ok_or_else(|| not_chatml("the default system message is not a ChatML message"))?;
			default_system = Some(prompt.to_string());
			if !is_block(at.next(), "endif") {
				return Err(not_chatml("the default system message's `if` is not closed"));
			}
		}
		let message = at
			.next()
			.filter(|tag| tag.kind == Kind::Variable)
			.and_then(|tag| concatenation(&expression(&tag.inner).ok()?));
		let expected = [
			Part::Literal(IM_START.into()),
			Part::Role,
			Part::Literal("\n".into()),
			Part::Content,
			Part::Literal(format!("{IM_END}\n")),
		];
		if message.as_deref() != Some(&expected[..]) {
			return Err(not_chatml(
				"messages are not written as `<|im_start|>` role `\\n` content `<|im_end|>\\n`",
			));
		}
		if !is_block(at.next(), "endfor") {
			return Err(not_chatml(
				"the message loop is not closed after its one message expression",
			));
		}
		if !is_block(at.next(), "if add_generation_prompt")
			|| literal(at.next()).as_deref() != Some("<|im_start|>assistant\n")
			|| !is_block(at.next(), "endif")
		{
			return Err(not_chatml("the generation prompt is not `<|im_start|>assistant\\n`"));
		}
		if at.next().is_some() {
			return Err(not_chatml("it has tags after the generation prompt"));
		}
		Ok(ChatTemplate { default_system })
	}
}

/// A byte-level BPE tokenizer.
#[derive(Clone)]
pub struct Tokenizer {
	tokens: Vec<String>,
	types: Vec<TokenType>,
	vocab: HashMap<String, u32>,
	merges: PairMap,
	/// The token of each byte on its own, where the vocabulary has one.
	byte_tokens: [Option<u32>; 256],
	/// Each token's bytes when decoded, concatenated; token `i` is `decoded[ends[i-1]..ends[i]]`.
	decoded: Vec<u8>,
	ends: Vec<usize>,
	pattern: Regex,
	/// Control and user-defined tokens; user-defined tokens alone.
	with_control: Option<Regex>,
	user_defined: Option<Regex>,
	whole: HashMap<String, u32>,
	bos: Option<u32>,
	eos: Option<u32>,
	pad: Option<u32>,
	unk: Option<u32>,
	chat: std::result::Result<ChatTemplate, String>,
}

impl fmt::Debug for Tokenizer {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.debug_struct("Tokenizer")
			.field("vocab_size", &self.tokens.len())
			.field("merges", &self.merges.len())
			.field("bos", &self.bos)
			.field("eos", &self.eos)
			.field("chat", &self.chat)
			.finish_non_exhaustive()
	}
}

fn get<'m>(metadata: &'m BTreeMap<String, Value>, key: &str) -> Result<&'m Value> {
	metadata.get(key).ok_or_else(|| TokenizerError::MissingKey(key.to_string()))
}

fn wrong(key: &str, expected: &'static str) -> TokenizerError {
	TokenizerError::WrongType { key: key.to_string(), expected }
}

fn strings<'m>(metadata: &'m BTreeMap<String, Value>, key: &str) -> Result<Vec<&'m str>> {
	let expected = "an array of strings";
	get(metadata, key)?
		.as_array()
		.ok_or_else(|| wrong(key, expected))?
		.iter()
		.map(|value| value.as_str().ok_or_else(|| wrong(key, expected)))
		.collect()
}

fn integer(value: &Value) -> Option<i64> {
	match *value {
		Value::I8(v) => Some(v.into()),
		Value::I16(v) => Some(v.into()),
		Value::I32(v) => Some(v.into()),
		Value::I64(v) => Some(v),
		_ => value.as_u64().and_then(|v| i64::try_from(v).ok()),
	}
}

/// The part of a model file its tokenizer is built from, as a GGUF image of its own: every
/// `tokenizer.*` key and the architecture (which every GGUF file names), no tensors. A few
/// megabytes that turn the model's token ids into text without its weights;
/// [`Tokenizer::from_gguf`] reads it as it reads the whole file.
pub fn tokenizer_image(file: &GgufFile) -> Vec<u8> {
	crate::gguf::metadata_image(
		file.metadata
			.iter()
			.filter(|(key, _)| key.starts_with("tokenizer.") || *key == "general.architecture")
			.map(|(key, value)| (key.as_str(), value)),
	)
}

impl Tokenizer {
	/// The tokenizer of a GGUF file.
	pub fn from_gguf(file: &GgufFile) -> Result<Self> {
		Self::from_metadata(&file.metadata)
	}

	/// The tokenizer described by GGUF metadata.
	pub fn from_metadata(metadata: &BTreeMap<String, Value>) -> Result<Self> {
		let model =
			get(metadata, keys::MODEL)?.as_str().ok_or_else(|| wrong(keys::MODEL, "a string"))?;
		if model != SUPPORTED_MODEL {
			return Err(TokenizerError::UnsupportedModel(model.to_string()));
		}

		let token_strs = strings(metadata, keys::TOKENS)?;
		let vocab_size = token_strs.len();
		if vocab_size == 0 || u32::try_from(vocab_size).is_err() {
			return Err(TokenizerError::BadVocabularySize(vocab_size));
		}
		let tokens: Vec<String> = token_strs.iter().map(|t| t.to_string()).collect();
		let mut vocab = HashMap::with_capacity(vocab_size);
		for (id, token) in (0u32..).zip(&tokens) {
			// A repeated token keeps its first id.
			vocab.entry(token.clone()).or_insert(id);
		}

		let types = match metadata.get(keys::TOKEN_TYPE) {
			None => vec![TokenType::Normal; vocab_size],
			Some(value) => {
				let expected = "an array of token types (integers 0 to 6)";
				let codes = value.as_array().ok_or_else(|| wrong(keys::TOKEN_TYPE, expected))?;
				if codes.len() != vocab_size {
					return Err(TokenizerError::LengthMismatch {
						key: keys::TOKEN_TYPE.into(),
						len: codes.len(),
						vocab_size,
					});
				}
				codes
					.iter()
					.map(|code| {
						integer(code)
							.and_then(TokenType::from_code)
							.ok_or_else(|| wrong(keys::TOKEN_TYPE, expected))
					})
					.collect::<Result<Vec<_>>>()?
			},
		};

		let merge_strs = strings(metadata, keys::MERGES)?;
		let mut merges = PairMap::with_capacity_and_hasher(merge_strs.len(), Default::default());
		for (index, merge) in merge_strs.iter().enumerate() {
			let malformed = || TokenizerError::MalformedMerge { index, merge: merge.to_string() };
			let (left, right) = merge.split_once(' ').ok_or_else(malformed)?;
			if left.is_empty() || right.is_empty() || right.contains(' ') {
				return Err(malformed());
			}
			let id = |token: &str| {
				vocab.get(token).copied().ok_or_else(|| TokenizerError::UnknownMergeToken {
					index,
					merge: merge.to_string(),
					token: token.to_string(),
				})
			};
			let (left, right, joined) = (id(left)?, id(right)?, id(&format!("{left}{right}"))?);
			let rank = u32::try_from(index).map_err(|_| malformed())?;
			// A repeated merge keeps its first (lowest) rank.
			merges.entry(pair(left, right)).or_insert(Merge { rank, id: joined });
		}

		let special = |key: &str| -> Result<Option<u32>> {
			let Some(value) = metadata.get(key) else { return Ok(None) };
			let id = value.as_u64().ok_or_else(|| wrong(key, "an unsigned integer"))?;
			match u32::try_from(id) {
				Ok(id) if (id as usize) < vocab_size => Ok(Some(id)),
				_ => Err(TokenizerError::SpecialIdOutOfRange { key: key.into(), id, vocab_size }),
			}
		};
		let (bos, eos, pad, unk) =
			(special(keys::BOS)?, special(keys::EOS)?, special(keys::PAD)?, special(keys::UNK)?);
		// Without token types, the named special tokens are the control tokens.
		let mut types = types;
		if !metadata.contains_key(keys::TOKEN_TYPE) {
			for id in [bos, eos, pad, unk].into_iter().flatten() {
				types[id as usize] = TokenType::Control;
			}
		}

		let byte_chars = byte_to_char();
		let mut char_bytes = HashMap::with_capacity(256);
		let mut byte_tokens = [None; 256];
		for (byte, (c, slot)) in (0u8..=255).zip(byte_chars.iter().zip(&mut byte_tokens)) {
			char_bytes.insert(*c, byte);
			*slot = vocab.get(c.encode_utf8(&mut [0; 4]) as &str).copied();
		}
		// Hugging Face's ByteLevel decoder: a token's characters mapped back to bytes, or its UTF-8
		// as it is when any character is outside the map (control tokens, in practice).
		let mut decoded = Vec::with_capacity(tokens.iter().map(String::len).sum());
		let mut ends = Vec::with_capacity(vocab_size);
		for token in &tokens {
			let start = decoded.len();
			for c in token.chars() {
				match char_bytes.get(&c) {
					Some(&byte) => decoded.push(byte),
					None => {
						decoded.truncate(start);
						decoded.extend_from_slice(token.as_bytes());
						break;
					},
				}
			}
			ends.push(decoded.len());
		}

		let whole_tokens = |include_control: bool| -> Result<Option<Regex>> {
			let mut whole: Vec<&str> = tokens
				.iter()
				.zip(&types)
				.filter(|(token, kind)| {
					!token.is_empty()
						&& (**kind == TokenType::UserDefined
							|| (include_control && **kind == TokenType::Control))
				})
				.map(|(token, _)| token.as_str())
				.collect();
			if whole.is_empty() {
				return Ok(None);
			}
			// Longest first: leftmost-first alternation then finds the leftmost-longest token.
			whole.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
			whole.dedup();
			let alternatives: Vec<String> = whole.iter().map(|t| regex::escape(t)).collect();
			Ok(Some(Regex::new(&alternatives.join("|"))?))
		};
		let with_control = whole_tokens(true)?;
		let user_defined = whole_tokens(false)?;
		let mut whole = HashMap::new();
		for (id, (token, kind)) in (0u32..).zip(tokens.iter().zip(&types)) {
			if matches!(kind, TokenType::Control | TokenType::UserDefined) {
				whole.entry(token.clone()).or_insert(id);
			}
		}

		let chat = match metadata.get(keys::CHAT_TEMPLATE) {
			None => Err(format!("the model has no `{}`", keys::CHAT_TEMPLATE)),
			Some(value) => {
				let text = value.as_str().ok_or_else(|| wrong(keys::CHAT_TEMPLATE, "a string"))?;
				match template::recognise(text) {
					Ok(_) if [IM_START, IM_END].iter().any(|t| !whole.contains_key(*t)) => {
						Err("the template is ChatML but `<|im_start|>` or `<|im_end|>` is not a \
						 control token of the vocabulary"
							.to_string())
					},
					other => other,
				}
			},
		};

		Ok(Self {
			tokens,
			types,
			vocab,
			merges,
			byte_tokens,
			decoded,
			ends,
			pattern: Regex::new(GPT2_PATTERN)?,
			with_control,
			user_defined,
			whole,
			bos,
			eos,
			pad,
			unk,
			chat,
		})
	}

	/// Number of tokens.
	pub fn vocab_size(&self) -> usize {
		self.tokens.len()
	}

	/// Number of merges.
	pub fn merge_count(&self) -> usize {
		self.merges.len()
	}

	/// The token's text as stored in the vocabulary (byte-level characters: `Ġ` for a space).
	pub fn token(&self, id: u32) -> Option<&str> {
		self.tokens.get(id as usize).map(String::as_str)
	}

	/// The id of a token, by its vocabulary text.
	pub fn token_id(&self, token: &str) -> Option<u32> {
		self.vocab.get(token).copied()
	}

	/// The token's type.
	pub fn token_type(&self, id: u32) -> Option<TokenType> {
		self.types.get(id as usize).copied()
	}

	/// Whether the token is a control token (`<|im_end|>`).
	pub fn is_control(&self, id: u32) -> bool {
		self.token_type(id) == Some(TokenType::Control)
	}

	/// `tokenizer.ggml.bos_token_id`.
	pub fn bos_id(&self) -> Option<u32> {
		self.bos
	}

	/// `tokenizer.ggml.eos_token_id` (for SmolLM2-Instruct, `<|im_end|>`).
	pub fn eos_id(&self) -> Option<u32> {
		self.eos
	}

	/// `tokenizer.ggml.padding_token_id`.
	pub fn pad_id(&self) -> Option<u32> {
		self.pad
	}

	/// `tokenizer.ggml.unknown_token_id`, as the file names it. Encoding never produces it: a
	/// byte with no token of its own is dropped, as llama.cpp and Hugging Face's BPE without an
	/// `unk_token` do. (SmolLM2 lacks the bytes 0x04, 0x06, 0x13, 0x14, 0x16 and 0x1d, the lead
	/// bytes 0xf1 and 0xf2 of code points U+40000 to U+BFFFF, and bytes UTF-8 never uses.)
	pub fn unk_id(&self) -> Option<u32> {
		self.unk
	}

	/// Token ids of `text`. With `allow_special`, control tokens written in the text
	/// (`<|im_start|>`) are recognised whole; without, they are tokenized as plain text.
	/// User-defined tokens are recognised whole either way. No BOS is added.
	pub fn encode(&self, text: &str, allow_special: bool) -> Vec<u32> {
		let mut ids = Vec::with_capacity(text.len() / 3 + 1);
		let mut work = Work::default();
		let matcher = if allow_special { &self.with_control } else { &self.user_defined };
		let mut start = 0;
		if let Some(matcher) = matcher {
			for found in matcher.find_iter(text) {
				self.encode_ordinary(&text[start..found.start()], &mut ids, &mut work);
				if let Some(&id) = self.whole.get(found.as_str()) {
					ids.push(id);
				}
				start = found.end();
			}
		}
		self.encode_ordinary(&text[start..], &mut ids, &mut work);
		ids
	}

	/// Text with no special tokens: digits apart, then the GPT-2 pattern, then BPE.
	fn encode_ordinary(&self, text: &str, ids: &mut Vec<u32>, work: &mut Work) {
		let mut piece = 0;
		for (i, c) in text.char_indices() {
			if c.is_numeric() {
				self.split(&text[piece..i], ids, work);
				piece = i + c.len_utf8();
				self.split(&text[i..piece], ids, work);
			}
		}
		self.split(&text[piece..], ids, work);
	}

	/// The GPT-2 pattern over one piece, `\s+(?!\S)` done by hand.
	fn split(&self, piece: &str, ids: &mut Vec<u32>, work: &mut Work) {
		let mut at = 0;
		while at < piece.len() {
			let Some(found) = self.pattern.find_at(piece, at) else {
				// Unreachable: every character matches some alternative.
				self.bpe(&piece[at..], ids, work);
				return;
			};
			if found.start() > at {
				self.bpe(&piece[at..found.start()], ids, work);
			}
			let mut end = found.end();
			let word = found.as_str();
			// Only the `\s+` alternative ends in whitespace. Followed by more text, the run keeps
			// all but its last character, as `\s+(?!\S)` would (a lone character stays: `\s+`).
			if end < piece.len() {
				if let Some(last) = word.chars().next_back().filter(|c| c.is_whitespace()) {
					if word.len() > last.len_utf8() {
						end -= last.len_utf8();
					}
				}
			}
			self.bpe(&piece[found.start()..end], ids, work);
			at = end;
		}
	}

	/// Byte-level BPE of one word: merges lowest rank first, leftmost first among equals.
	fn bpe(&self, word: &str, ids: &mut Vec<u32>, work: &mut Work) {
		let symbols = &mut work.symbols;
		symbols.clear();
		for &byte in word.as_bytes() {
			if let Some(id) = self.byte_tokens[byte as usize] {
				let index = symbols.len();
				symbols.push(Symbol {
					id,
					prev: index.wrapping_sub(1),
					next: index + 1,
					alive: true,
				});
			}
		}
		let Some(last) = symbols.last_mut() else { return };
		last.next = NONE;
		if symbols.len() == 1 {
			ids.push(symbols[0].id);
			return;
		}
		let queue = &mut work.queue;
		queue.clear();
		for (index, window) in symbols.windows(2).enumerate() {
			if let Some(merge) = self.merges.get(&pair(window[0].id, window[1].id)) {
				queue.push(Reverse((merge.rank, index, merge.id)));
			}
		}
		while let Some(Reverse((rank, index, id))) = queue.pop() {
			let left = symbols[index];
			if !left.alive || left.next == NONE {
				continue;
			}
			let right = symbols[left.next];
			match self.merges.get(&pair(left.id, right.id)) {
				Some(merge) if merge.rank == rank && merge.id == id => {},
				_ => continue, // stale: one side has merged since
			}
			symbols[index].id = id;
			symbols[index].next = right.next;
			symbols[left.next].alive = false;
			if right.next != NONE {
				symbols[right.next].prev = index;
				if let Some(merge) = self.merges.get(&pair(id, symbols[right.next].id)) {
					queue.push(Reverse((merge.rank, index, merge.id)));
				}
			}
			if left.prev != NONE {
				if let Some(merge) = self.merges.get(&pair(symbols[left.prev].id, id)) {
					queue.push(Reverse((merge.rank, left.prev, merge.id)));
				}
			}
		}
		let mut index = 0;
		while index != NONE {
			ids.push(symbols[index].id);
			index = symbols[index].next;
		}
	}

	/// The bytes a token decodes to.
	pub fn token_bytes(&self, id: u32) -> Result<&[u8]> {
		let index = id as usize;
		let end = *self
			.ends
			.get(index)
			.ok_or(TokenizerError::TokenOutOfRange { id, vocab_size: self.tokens.len() })?;
		let start = index.checked_sub(1).map_or(0, |before| self.ends[before]);
		Ok(&self.decoded[start..end])
	}

	/// The bytes of a token sequence. Control tokens decode to their text; nothing is skipped.
	pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>> {
		let mut out = Vec::with_capacity(ids.len() * 4);
		for &id in ids {
			out.extend_from_slice(self.token_bytes(id)?);
		}
		Ok(out)
	}

	/// The text of a token sequence; bytes that are not UTF-8 become U+FFFD.
	pub fn decode(&self, ids: &[u32]) -> Result<String> {
		Ok(String::from_utf8_lossy(&self.decode_bytes(ids)?).into_owned())
	}

	/// A decoder for a stream of tokens.
	pub fn decoder(&self) -> Decoder<'_> {
		Decoder { tokenizer: self, pending: Vec::new() }
	}

	/// The chat template recognised in the metadata, or why there is none.
	pub fn chat_template(&self) -> Result<&ChatTemplate> {
		self.chat.as_ref().map_err(|reason| TokenizerError::UnsupportedChatTemplate(reason.clone()))
	}

	/// The prompt text for `messages`, exactly as the model's chat template renders it.
	pub fn chat_prompt(
		&self,
		messages: &[(Role, &str)],
		add_generation_prompt: bool,
	) -> Result<String> {
		Ok(self.chat_template()?.render(messages, add_generation_prompt))
	}

	/// The token ids of [`Self::chat_prompt`], with the template's own `<|im_start|>` and
	/// `<|im_end|>` as control tokens and the messages' text encoded as plain text: a message
	/// that writes `<|im_end|>` cannot end its turn. For messages without control-token text the
	/// result is `encode(&chat_prompt(..), true)`.
	pub fn encode_chat(
		&self,
		messages: &[(Role, &str)],
		add_generation_prompt: bool,
	) -> Result<Vec<u32>> {
		let template = self.chat_template()?;
		let control = |token: &str| {
			self.whole.get(token).copied().ok_or_else(|| {
				TokenizerError::UnsupportedChatTemplate(format!("`{token}` is not a control token"))
			})
		};
		let (start, end) = (control(IM_START)?, control(IM_END)?);
		let mut ids = Vec::new();
		let mut text = String::new();
		for piece in template.pieces(messages, add_generation_prompt) {
			let id = match piece {
				Piece::Text(piece) => {
					text.push_str(piece);
					continue;
				},
				Piece::Start => start,
				Piece::End => end,
			};
			ids.extend(self.encode(&text, false));
			text.clear();
			ids.push(id);
		}
		ids.extend(self.encode(&text, false));
		Ok(ids)
	}
}

const NONE: usize = usize::MAX;

#[derive(Clone, Copy)]
struct Symbol {
	id: u32,
	prev: usize,
	next: usize,
	alive: bool,
}

/// Buffers reused across the words of one call.
#[derive(Default)]
struct Work {
	symbols: Vec<Symbol>,
	queue: BinaryHeap<Reverse<(u32, usize, u32)>>,
}

/// Decodes a stream of tokens into text, holding back the bytes of a character that a later
/// token completes: the concatenation of what [`Decoder::push`] and [`Decoder::finish`] return is
/// [`Tokenizer::decode`] of all the tokens.
#[derive(Debug)]
pub struct Decoder<'t> {
	tokenizer: &'t Tokenizer,
	pending: Vec<u8>,
}

impl Decoder<'_> {
	/// Adds a token; returns the text it completes (maybe none). Bytes that can never be UTF-8
	/// become U+FFFD at once; an incomplete character's bytes wait for the next token.
	pub fn push(&mut self, id: u32) -> Result<String> {
		self.pending.extend_from_slice(self.tokenizer.token_bytes(id)?);
		let mut out = String::new();
		let mut rest: &[u8] = &self.pending;
		loop {
			match std::str::from_utf8(rest) {
				Ok(text) => {
					out.push_str(text);
					rest = &[];
					break;
				},
				Err(error) => {
					let (valid, after) = rest.split_at(error.valid_up_to());
					out.push_str(&String::from_utf8_lossy(valid));
					match error.error_len() {
						Some(invalid) => {
							out.push(char::REPLACEMENT_CHARACTER);
							rest = &after[invalid..];
						},
						None => {
							rest = after;
							break;
						},
					}
				},
			}
		}
		let kept = rest.len();
		self.pending.drain(..self.pending.len() - kept);
		Ok(out)
	}

	/// Bytes held back, waiting for the rest of a character.
	pub fn pending(&self) -> &[u8] {
		&self.pending
	}

	/// Ends the stream: what is held back, U+FFFD for an incomplete character.
	pub fn finish(self) -> String {
		String::from_utf8_lossy(&self.pending).into_owned()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_byte_map_is_gpt2s() {
		let map = byte_to_char();
		assert_eq!(map[b' ' as usize], 'Ġ');
		assert_eq!(map[b'\n' as usize], 'Ċ');
		assert_eq!(map[b'a' as usize], 'a');
		assert_eq!(map[0], 'Ā');
		assert_eq!(map[0xad], '\u{143}'); // 'Ń', the 68th unprintable byte
		let mut sorted = map.to_vec();
		sorted.sort_unstable();
		sorted.dedup();
		assert_eq!(sorted.len(), 256);
	}

	fn metadata(tokens: &[&str], merges: &[&str]) -> BTreeMap<String, Value> {
		let strings = |items: &[&str]| {
			Value::Array(items.iter().map(|s| Value::String(s.to_string())).collect())
		};
		let mut metadata = BTreeMap::new();
		metadata.insert(keys::MODEL.into(), Value::String("gpt2".into()));
		metadata.insert(keys::TOKENS.into(), strings(tokens));
		metadata.insert(keys::MERGES.into(), strings(merges));
		metadata
	}

	/// A toy vocabulary: every byte, then merges building "hello" and " world".
	fn toy() -> Tokenizer {
		let map = byte_to_char();
		let mut tokens: Vec<String> = map.iter().map(|c| c.to_string()).collect();
		let merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"];
		for merge in merges {
			tokens.push(merge.replace(' ', ""));
		}
		tokens.push("<|im_start|>".into());
		let token_refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
		let mut metadata = metadata(&token_refs, &merges);
		let mut types = vec![Value::I32(1); tokens.len()];
		*types.last_mut().unwrap() = Value::I32(3);
		metadata.insert(keys::TOKEN_TYPE.into(), Value::Array(types));
		Tokenizer::from_metadata(&metadata).unwrap()
	}

	#[test]
	fn merges_apply_by_rank() {
		let tokenizer = toy();
		let hello = tokenizer.token_id("hello").unwrap();
		let world = tokenizer.token_id("Ġworld").unwrap();
		assert_eq!(tokenizer.encode("hello world", false), vec![hello, world]);
		let ids = tokenizer.encode("hello  world\n", false);
		let space = tokenizer.token_id("Ġ").unwrap();
		assert_eq!(ids, vec![hello, space, world, tokenizer.token_id("Ċ").unwrap()]);
		assert_eq!(tokenizer.decode(&ids).unwrap(), "hello  world\n");
	}

	#[test]
	fn control_tokens_only_when_allowed() {
		let tokenizer = toy();
		let start = tokenizer.token_id("<|im_start|>").unwrap();
		assert_eq!(tokenizer.encode("<|im_start|>", true), vec![start]);
		assert_eq!(tokenizer.encode("<|im_start|>", false).len(), "<|im_start|>".len());
	}
}
