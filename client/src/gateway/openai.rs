//! OpenAI's chat-completions wire format: what the gateway reads, what it answers, and how
//! errors look, with the mapping of a request onto a job (docs/gateway.md).

use axum::{
	http::StatusCode,
	response::{IntoResponse, Response},
	Json,
};
use commons_primitives::prompt::{Message, Role, MAX_MESSAGES};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::market::{Sampling, MAX_TEMPERATURE, MAX_TOP_K, TEMPERATURE_ONE};

/// A failed request, as OpenAI's error JSON with a fitting status.
#[derive(Debug)]
pub struct ApiError {
	/// The HTTP status.
	pub status: StatusCode,
	/// OpenAI's error type (`invalid_request_error`, …).
	pub kind: &'static str,
	/// A stable machine-readable code.
	pub code: &'static str,
	/// What went wrong, for people.
	pub message: String,
	/// The request field at fault.
	pub param: Option<&'static str>,
	/// The job concerned, when one was posted: it can be followed by its id.
	pub job: Option<u64>,
	/// The job's receipt, when it settled.
	pub commons: Option<Box<Value>>,
	/// Whether a retry is safe: not once a job may have been posted.
	pub retry: bool,
}

impl ApiError {
	/// A bad request (400) about `param`.
	pub fn invalid(param: &'static str, message: impl Into<String>) -> Self {
		Self {
			status: StatusCode::BAD_REQUEST,
			kind: "invalid_request_error",
			code: "invalid_value",
			message: message.into(),
			param: Some(param),
			job: None,
			commons: None,
			retry: true,
		}
	}

	/// Any other error.
	pub fn new(
		status: StatusCode,
		kind: &'static str,
		code: &'static str,
		message: impl Into<String>,
	) -> Self {
		Self {
			status,
			kind,
			code,
			message: message.into(),
			param: None,
			job: None,
			commons: None,
			retry: true,
		}
	}

	/// The same error, about job `job`.
	pub fn about_job(mut self, job: u64) -> Self {
		self.job = Some(job);
		self.retry = false;
		self
	}

	/// The error object, as OpenAI nests it under `error`.
	pub fn body(&self) -> Value {
		let mut error = json!({
			"message": self.message,
			"type": self.kind,
			"param": self.param,
			"code": self.code,
		});
		if let Some(job) = self.job {
			error["job"] = json!(job);
		}
		if let Some(commons) = &self.commons {
			error["commons"] = (**commons).clone();
		}
		json!({ "error": error })
	}
}

impl IntoResponse for ApiError {
	fn into_response(self) -> Response {
		let mut response = (self.status, Json(self.body())).into_response();
		// Once a job is posted, a retry would post and pay for another: OpenAI's clients
		// honour this header over their own retry rules.
		if !self.retry {
			response
				.headers_mut()
				.insert("x-should-retry", axum::http::HeaderValue::from_static("false"));
		}
		response
	}
}

/// `POST /v1/chat/completions`, the fields the gateway reads. Fields it does not know are
/// ignored, as OpenAI's own API does; fields it knows but cannot honour are refused.
#[derive(Deserialize, Debug)]
pub struct ChatRequest {
	model: String,
	messages: Vec<ChatMessage>,
	#[serde(default)]
	max_tokens: Option<u32>,
	#[serde(default)]
	max_completion_tokens: Option<u32>,
	#[serde(default)]
	temperature: Option<f64>,
	#[serde(default)]
	top_p: Option<f64>,
	#[serde(default)]
	top_k: Option<u32>,
	#[serde(default)]
	seed: Option<u64>,
	#[serde(default)]
	n: Option<u32>,
	#[serde(default)]
	stream: Option<bool>,
	#[serde(default)]
	stream_options: Option<StreamOptions>,
	#[serde(default)]
	stop: Option<Value>,
	#[serde(default)]
	tools: Option<Vec<Value>>,
	#[serde(default)]
	logprobs: Option<bool>,
	#[serde(default)]
	presence_penalty: Option<f64>,
	#[serde(default)]
	frequency_penalty: Option<f64>,
	#[serde(default)]
	response_format: Option<Value>,
}

#[derive(Deserialize, Debug)]
struct StreamOptions {
	#[serde(default)]
	include_usage: bool,
}

#[derive(Deserialize, Debug)]
struct ChatMessage {
	role: String,
	#[serde(default)]
	content: Option<Content>,
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum Content {
	Text(String),
	Parts(Vec<ContentPart>),
}

#[derive(Deserialize, Debug)]
struct ContentPart {
	#[serde(rename = "type")]
	kind: String,
	#[serde(default)]
	text: Option<String>,
}

/// A chat request, mapped onto what a job holds.
#[derive(Debug, Clone)]
pub struct ChatJob {
	/// The model, as named.
	pub model: String,
	/// The conversation.
	pub messages: Vec<Message>,
	/// Most tokens to generate (`None`: the gateway's default).
	pub max_tokens: Option<u32>,
	/// How tokens are chosen.
	pub sampling: Sampling,
	/// Answer with server-sent events.
	pub stream: bool,
	/// With `stream`: end with a chunk holding the usage.
	pub include_usage: bool,
}

impl ChatRequest {
	/// Parses a request body; an unreadable one is a 400 naming what is wrong.
	pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
		serde_json::from_slice(body).map_err(|error| {
			ApiError::invalid("body", format!("the request body is not a chat request: {error}"))
		})
	}

	/// Maps the request onto a job, or says which field cannot be honoured. `seed` picks a
	/// seed when a sampled request names none.
	pub fn into_job(self, seed: impl FnOnce() -> u64) -> Result<ChatJob, ApiError> {
		if self.n.is_some_and(|n| n != 1) {
			return Err(ApiError::invalid(
				"n",
				"n must be 1: each choice is a separately paid job, so post one request per \
				 choice (with different seeds)",
			));
		}
		if self.top_p.is_some_and(|top_p| top_p != 1.0) {
			return Err(ApiError::invalid(
				"top_p",
				"top_p is not supported by the chain's sampler; use top_k (1 to 1024)",
			));
		}
		let stop_given = match &self.stop {
			None | Some(Value::Null) => false,
			Some(Value::Array(stops)) => !stops.is_empty(),
			Some(_) => true,
		};
		if stop_given {
			return Err(ApiError::invalid(
				"stop",
				"stop sequences are not supported: generation stops at the model's end of turn \
				 or max_tokens",
			));
		}
		if self.tools.as_ref().is_some_and(|tools| !tools.is_empty()) {
			return Err(ApiError::invalid("tools", "tool calls are not supported"));
		}
		if self.logprobs == Some(true) {
			return Err(ApiError::invalid("logprobs", "log probabilities are not returned"));
		}
		for (param, penalty) in [
			("presence_penalty", self.presence_penalty),
			("frequency_penalty", self.frequency_penalty),
		] {
			if penalty.is_some_and(|penalty| penalty != 0.0) {
				return Err(ApiError::invalid(param, format!("{param} is not supported")));
			}
		}
		if let Some(format) = &self.response_format {
			if format.get("type").and_then(Value::as_str).is_some_and(|kind| kind != "text") {
				return Err(ApiError::invalid("response_format", "only text responses are made"));
			}
		}
		let messages = self.messages.into_iter().map(message).collect::<Result<Vec<_>, _>>()?;
		if messages.is_empty() {
			return Err(ApiError::invalid("messages", "messages must not be empty"));
		}
		if messages.len() > MAX_MESSAGES as usize {
			return Err(ApiError::invalid(
				"messages",
				format!(
					"a job carries at most {MAX_MESSAGES} messages, not {}; shorten the history",
					messages.len()
				),
			));
		}
		let max_tokens = self.max_completion_tokens.or(self.max_tokens);
		let sampling = match self.temperature {
			None | Some(0.0) => Sampling::Greedy,
			Some(temperature) => {
				let most = f64::from(MAX_TEMPERATURE) / f64::from(TEMPERATURE_ONE);
				if !(temperature > 0.0 && temperature <= most) {
					return Err(ApiError::invalid(
						"temperature",
						format!("temperature must be between 0 and {most}"),
					));
				}
				let top_k = self.top_k.unwrap_or(40);
				if !(1..=MAX_TOP_K).contains(&top_k) {
					return Err(ApiError::invalid(
						"top_k",
						format!("top_k must be between 1 and {MAX_TOP_K}"),
					));
				}
				let milli = (temperature * f64::from(TEMPERATURE_ONE)).round().max(1.0) as u32;
				Sampling::TopK { temperature: milli, top_k, seed: self.seed.unwrap_or_else(seed) }
			},
		};
		Ok(ChatJob {
			model: self.model,
			messages,
			max_tokens,
			sampling,
			stream: self.stream.unwrap_or(false),
			include_usage: self.stream_options.is_some_and(|options| options.include_usage),
		})
	}
}

fn message(message: ChatMessage) -> Result<Message, ApiError> {
	let role = match message.role.as_str() {
		"system" | "developer" => Role::System,
		"user" => Role::User,
		"assistant" => Role::Assistant,
		other => {
			return Err(ApiError::invalid(
				"messages",
				format!("messages of role `{other}` are not supported (system, user, assistant)"),
			))
		},
	};
	let content = match message.content {
		None => {
			return Err(ApiError::invalid(
				"messages",
				"every message needs text content (tool calls are not supported)",
			))
		},
		Some(Content::Text(text)) => text,
		Some(Content::Parts(parts)) => {
			let mut text = String::new();
			for part in parts {
				match (part.kind.as_str(), part.text) {
					("text", Some(part)) => text.push_str(&part),
					(kind, _) => {
						return Err(ApiError::invalid(
							"messages",
							format!("content parts of type `{kind}` are not supported (text)"),
						))
					},
				}
			}
			text
		},
	};
	Ok(Message { role, content: content.into_bytes() })
}

#[cfg(test)]
mod tests {
	use super::*;

	fn job(body: Value) -> Result<ChatJob, ApiError> {
		ChatRequest::parse(body.to_string().as_bytes())?.into_job(|| 7)
	}

	#[test]
	fn a_conversation_maps_onto_a_job() {
		let chat = job(json!({
			"model": "m",
			"messages": [
				{"role": "developer", "content": "Be brief."},
				{"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]},
				{"role": "assistant", "content": "Hello"},
				{"role": "user", "content": "2+2?"}
			],
			"max_completion_tokens": 9,
			"temperature": 0.7,
			"stream": true,
			"stream_options": {"include_usage": true},
			"stop": null,
			"user": "ignored"
		}))
		.unwrap();
		assert_eq!(chat.messages.len(), 4);
		assert_eq!(chat.messages[0].role, Role::System);
		assert_eq!(chat.messages[1].content, b"Hi there");
		assert_eq!(chat.max_tokens, Some(9));
		assert_eq!(chat.sampling, Sampling::TopK { temperature: 700, top_k: 40, seed: 7 });
		assert!(chat.stream && chat.include_usage);
		let greedy = job(json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}));
		assert_eq!(greedy.unwrap().sampling, Sampling::Greedy);
	}

	#[test]
	fn what_cannot_be_honoured_is_refused_by_name() {
		let user = json!([{"role": "user", "content": "x"}]);
		for (extra, param) in [
			(json!({"n": 2}), "n"),
			(json!({"top_p": 0.9}), "top_p"),
			(json!({"stop": ["\n"]}), "stop"),
			(json!({"tools": [{"type": "function"}]}), "tools"),
			(json!({"temperature": 4.5}), "temperature"),
			(json!({"temperature": 1, "top_k": 0}), "top_k"),
			(json!({"presence_penalty": 1}), "presence_penalty"),
			(json!({"response_format": {"type": "json_object"}}), "response_format"),
		] {
			let mut body = json!({"model": "m", "messages": user});
			for (key, value) in extra.as_object().unwrap() {
				body[key] = value.clone();
			}
			let error = job(body).unwrap_err();
			assert_eq!((error.status, error.param), (StatusCode::BAD_REQUEST, Some(param)));
		}
		let tool = json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]});
		assert_eq!(job(tool).unwrap_err().param, Some("messages"));
		let nine = vec![json!({"role": "user", "content": "x"}); 9];
		assert!(job(json!({"model": "m", "messages": nine})).unwrap_err().message.contains('8'));
		assert_eq!(ChatRequest::parse(b"{").unwrap_err().status, StatusCode::BAD_REQUEST);
	}
}
