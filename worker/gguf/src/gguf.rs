//! GGUF v3 files: header, metadata, tensor infos and the aligned tensor data, memory-mapped.
//!
//! Every malformed input is a [`GgufError`] that names the problem; nothing here panics on a
//! file's contents, and no allocation is sized by a count the file has not backed with bytes.

use std::{collections::BTreeMap, fs::File, path::Path};

/// `GGUF`, little-endian.
const MAGIC: [u8; 4] = *b"GGUF";
/// The only version read (llama.cpp writes 3 since 2023).
const VERSION: u32 = 3;
/// Alignment of the tensor data when the file does not set `general.alignment`.
const DEFAULT_ALIGNMENT: u64 = 32;
/// Arrays nest at most this deep; real files use one level.
const MAX_ARRAY_DEPTH: usize = 4;
/// Architectures the engine runs.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &["llama"];

/// Why a GGUF file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
	/// The file could not be opened or mapped.
	#[error("cannot read {path}: {source}")]
	Io {
		/// The file.
		path: String,
		/// The operating system's error.
		#[source]
		source: std::io::Error,
	},
	/// The first four bytes are not `GGUF`.
	#[error("not a GGUF file: magic is {0:02x?}, expected \"GGUF\"")]
	BadMagic([u8; 4]),
	/// A GGUF version other than 3.
	#[error("GGUF version {0} is not supported (only version 3)")]
	UnsupportedVersion(u32),
	/// The file ends before a field it promises.
	#[error("file is truncated: {what} at byte {offset} runs past the end ({len} bytes)")]
	Truncated {
		/// The field being read.
		what: &'static str,
		/// Where it starts.
		offset: u64,
		/// The file's length.
		len: u64,
	},
	/// A string that is not UTF-8.
	#[error("{what} at byte {offset} is not UTF-8")]
	InvalidUtf8 {
		/// The field being read.
		what: &'static str,
		/// Where it starts.
		offset: u64,
	},
	/// A metadata value type this reader does not know.
	#[error("metadata `{key}` has unknown value type {type_id}")]
	UnknownValueType {
		/// The metadata key.
		key: String,
		/// The type id in the file.
		type_id: u32,
	},
	/// Arrays nested deeper than any real file nests them.
	#[error("metadata `{key}` nests arrays deeper than {MAX_ARRAY_DEPTH}")]
	ArrayTooDeep {
		/// The metadata key.
		key: String,
	},
	/// A tensor stored in a quantisation the engine does not run.
	#[error("tensor `{tensor}` has type {type_id} ({name}); supported: F32, F16, Q4_1, Q8_0")]
	UnsupportedTensorType {
		/// The tensor.
		tensor: String,
		/// The ggml type id.
		type_id: u32,
		/// Its name in ggml, where known.
		name: &'static str,
	},
	/// A tensor whose shape does not fit its type or the file.
	#[error("tensor `{tensor}` is malformed: {reason}")]
	BadTensor {
		/// The tensor.
		tensor: String,
		/// What is wrong with it.
		reason: String,
	},
	/// A required metadata key is absent or of the wrong type.
	#[error("metadata `{key}` is missing or is not {expected}")]
	MissingMetadata {
		/// The key.
		key: String,
		/// The type it should have.
		expected: &'static str,
	},
	/// A model architecture the engine does not run.
	#[error("architecture `{0}` is not supported (supported: llama)")]
	UnsupportedArchitecture(String),
}

/// Result of this module.
pub type Result<T> = std::result::Result<T, GgufError>;

/// A metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
	/// `u8`.
	U8(u8),
	/// `i8`.
	I8(i8),
	/// `u16`.
	U16(u16),
	/// `i16`.
	I16(i16),
	/// `u32`.
	U32(u32),
	/// `i32`.
	I32(i32),
	/// `f32`.
	F32(f32),
	/// `bool`.
	Bool(bool),
	/// A UTF-8 string.
	String(String),
	/// An array of values of one type.
	Array(Vec<Value>),
	/// `u64`.
	U64(u64),
	/// `i64`.
	I64(i64),
	/// `f64`.
	F64(f64),
}

impl Value {
	/// The value as an unsigned integer, whatever its width.
	pub fn as_u64(&self) -> Option<u64> {
		match *self {
			Value::U8(v) => Some(v.into()),
			Value::U16(v) => Some(v.into()),
			Value::U32(v) => Some(v.into()),
			Value::U64(v) => Some(v),
			Value::I8(v) => u64::try_from(v).ok(),
			Value::I16(v) => u64::try_from(v).ok(),
			Value::I32(v) => u64::try_from(v).ok(),
			Value::I64(v) => u64::try_from(v).ok(),
			_ => None,
		}
	}

	/// The value as a string.
	pub fn as_str(&self) -> Option<&str> {
		match self {
			Value::String(text) => Some(text),
			_ => None,
		}
	}

	/// The value as an array.
	pub fn as_array(&self) -> Option<&[Value]> {
		match self {
			Value::Array(values) => Some(values),
			_ => None,
		}
	}
}

impl Value {
	/// The GGUF type id of this value.
	fn type_id(&self) -> u32 {
		match self {
			Value::U8(_) => 0,
			Value::I8(_) => 1,
			Value::U16(_) => 2,
			Value::I16(_) => 3,
			Value::U32(_) => 4,
			Value::I32(_) => 5,
			Value::F32(_) => 6,
			Value::Bool(_) => 7,
			Value::String(_) => 8,
			Value::Array(_) => 9,
			Value::U64(_) => 10,
			Value::I64(_) => 11,
			Value::F64(_) => 12,
		}
	}

	/// Appends the value's bytes (without its type id) as GGUF stores them.
	fn write(&self, out: &mut Vec<u8>) {
		match self {
			Value::U8(v) => out.extend(v.to_le_bytes()),
			Value::I8(v) => out.extend(v.to_le_bytes()),
			Value::U16(v) => out.extend(v.to_le_bytes()),
			Value::I16(v) => out.extend(v.to_le_bytes()),
			Value::U32(v) => out.extend(v.to_le_bytes()),
			Value::I32(v) => out.extend(v.to_le_bytes()),
			Value::F32(v) => out.extend(v.to_le_bytes()),
			Value::Bool(v) => out.push(u8::from(*v)),
			Value::String(text) => write_string(out, text),
			Value::Array(values) => {
				// An array read from a file holds one type; an empty one may say any.
				let element_type = values.first().map_or(0, Value::type_id);
				out.extend(element_type.to_le_bytes());
				out.extend((values.len() as u64).to_le_bytes());
				for value in values {
					value.write(out);
				}
			},
			Value::U64(v) => out.extend(v.to_le_bytes()),
			Value::I64(v) => out.extend(v.to_le_bytes()),
			Value::F64(v) => out.extend(v.to_le_bytes()),
		}
	}
}

fn write_string(out: &mut Vec<u8>, text: &str) {
	out.extend((text.len() as u64).to_le_bytes());
	out.extend(text.as_bytes());
}

/// A GGUF v3 image holding `metadata` and no tensors, in key order: how part of a model file
/// (its tokenizer) travels without the weights. [`GgufFile::from_bytes`] reads it back.
pub fn metadata_image<'a>(metadata: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Vec<u8> {
	let mut pairs: Vec<(&str, &Value)> = metadata.into_iter().collect();
	pairs.sort_by_key(|(key, _)| *key);
	let mut out = MAGIC.to_vec();
	out.extend(VERSION.to_le_bytes());
	out.extend(0u64.to_le_bytes());
	out.extend((pairs.len() as u64).to_le_bytes());
	for (key, value) in pairs {
		write_string(&mut out, key);
		out.extend(value.type_id().to_le_bytes());
		value.write(&mut out);
	}
	out
}

/// How a tensor's elements are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorType {
	/// 32-bit floats.
	F32,
	/// 16-bit floats.
	F16,
	/// Blocks of 32: an f16 scale `d`, an f16 minimum `m`, 32 four-bit quants (20 bytes).
	Q4_1,
	/// Blocks of 32: an f16 scale `d`, 32 signed bytes (34 bytes).
	Q8_0,
}

impl TensorType {
	fn from_id(id: u32) -> std::result::Result<Self, &'static str> {
		match id {
			0 => Ok(Self::F32),
			1 => Ok(Self::F16),
			3 => Ok(Self::Q4_1),
			8 => Ok(Self::Q8_0),
			2 => Err("Q4_0"),
			6 => Err("Q5_0"),
			7 => Err("Q5_1"),
			9 => Err("Q8_1"),
			10 => Err("Q2_K"),
			11 => Err("Q3_K"),
			12 => Err("Q4_K"),
			13 => Err("Q5_K"),
			14 => Err("Q6_K"),
			15 => Err("Q8_K"),
			30 => Err("BF16"),
			_ => Err("unknown"),
		}
	}

	/// Elements per block.
	pub fn block_len(self) -> u64 {
		match self {
			Self::F32 | Self::F16 => 1,
			Self::Q4_1 | Self::Q8_0 => 32,
		}
	}

	/// Bytes per block.
	pub fn block_bytes(self) -> u64 {
		match self {
			Self::F32 => 4,
			Self::F16 => 2,
			Self::Q4_1 => 20,
			Self::Q8_0 => 34,
		}
	}
}

/// Where a tensor is and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
	/// Its name (`blk.0.attn_q.weight`).
	pub name: String,
	/// Its dimensions, innermost first (ggml order).
	pub dims: Vec<u64>,
	/// Its storage type.
	pub tensor_type: TensorType,
	/// Where its data starts, relative to the start of the data section.
	pub offset: u64,
	/// Its data's length in bytes.
	pub len: u64,
}

impl TensorInfo {
	/// Number of elements.
	pub fn elements(&self) -> u64 {
		self.dims.iter().product()
	}
}

/// A GGUF file, memory-mapped, with its metadata and tensor table parsed.
pub struct GgufFile {
	bytes: Bytes,
	/// Metadata, by key.
	pub metadata: BTreeMap<String, Value>,
	/// The tensors, in file order.
	pub tensors: Vec<TensorInfo>,
	/// Where the data section starts in the file.
	pub data_offset: u64,
}

enum Bytes {
	Mapped(memmap2::Mmap),
	Owned(Vec<u8>),
}

impl Bytes {
	fn as_slice(&self) -> &[u8] {
		match self {
			Bytes::Mapped(map) => map,
			Bytes::Owned(bytes) => bytes,
		}
	}
}

/// Reads little-endian fields from a byte slice, never past its end.
struct Reader<'a> {
	bytes: &'a [u8],
	position: usize,
}

impl<'a> Reader<'a> {
	fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
		let truncated = || GgufError::Truncated {
			what,
			offset: self.position as u64,
			len: self.bytes.len() as u64,
		};
		let end = self.position.checked_add(n).ok_or_else(truncated)?;
		let slice = self.bytes.get(self.position..end).ok_or_else(truncated)?;
		self.position = end;
		Ok(slice)
	}

	fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
		let slice = self.take(N, what)?;
		let mut out = [0u8; N];
		out.copy_from_slice(slice);
		Ok(out)
	}

	fn u32(&mut self, what: &'static str) -> Result<u32> {
		self.array(what).map(u32::from_le_bytes)
	}

	fn u64(&mut self, what: &'static str) -> Result<u64> {
		self.array(what).map(u64::from_le_bytes)
	}

	/// A count of items each at least `min_item_bytes` long: refused when the rest of the file
	/// could not hold them, so that a corrupt count never drives an allocation.
	fn count(&mut self, what: &'static str, min_item_bytes: u64) -> Result<usize> {
		let offset = self.position as u64;
		let count = self.u64(what)?;
		let remaining = (self.bytes.len() - self.position) as u64;
		if count.saturating_mul(min_item_bytes) > remaining {
			return Err(GgufError::Truncated { what, offset, len: self.bytes.len() as u64 });
		}
		usize::try_from(count).map_err(|_| GgufError::Truncated {
			what,
			offset,
			len: self.bytes.len() as u64,
		})
	}

	fn string(&mut self, what: &'static str) -> Result<String> {
		let length = self.count(what, 1)?;
		let offset = self.position as u64;
		let bytes = self.take(length, what)?;
		String::from_utf8(bytes.to_vec()).map_err(|_| GgufError::InvalidUtf8 { what, offset })
	}

	fn value(&mut self, key: &str, type_id: u32, depth: usize) -> Result<Value> {
		Ok(match type_id {
			0 => Value::U8(u8::from_le_bytes(self.array("u8 value")?)),
			1 => Value::I8(i8::from_le_bytes(self.array("i8 value")?)),
			2 => Value::U16(u16::from_le_bytes(self.array("u16 value")?)),
			3 => Value::I16(i16::from_le_bytes(self.array("i16 value")?)),
			4 => Value::U32(u32::from_le_bytes(self.array("u32 value")?)),
			5 => Value::I32(i32::from_le_bytes(self.array("i32 value")?)),
			6 => Value::F32(f32::from_le_bytes(self.array("f32 value")?)),
			7 => Value::Bool(self.array::<1>("bool value")? != [0]),
			8 => Value::String(self.string("string value")?),
			9 => {
				if depth >= MAX_ARRAY_DEPTH {
					return Err(GgufError::ArrayTooDeep { key: key.to_string() });
				}
				let element_type = self.u32("array element type")?;
				let count = self.count("array length", 1)?;
				let mut values = Vec::with_capacity(count);
				for _ in 0..count {
					values.push(self.value(key, element_type, depth + 1)?);
				}
				Value::Array(values)
			},
			10 => Value::U64(self.u64("u64 value")?),
			11 => Value::I64(i64::from_le_bytes(self.array("i64 value")?)),
			12 => Value::F64(f64::from_le_bytes(self.array("f64 value")?)),
			_ => return Err(GgufError::UnknownValueType { key: key.to_string(), type_id }),
		})
	}
}

impl GgufFile {
	/// Maps and parses the file at `path`, and checks that the engine can run it.
	pub fn open(path: impl AsRef<Path>) -> Result<Self> {
		let path = path.as_ref();
		let io = |source| GgufError::Io { path: path.display().to_string(), source };
		let file = File::open(path).map_err(io)?;
		// SAFETY: the map is read-only and private to this process; model files are not
		// modified while a worker serves them (the worker checks their sha256 before use).
		#[allow(unsafe_code)]
		let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
		Self::parse(Bytes::Mapped(map))
	}

	/// Parses a GGUF image held in memory, and checks that the engine can run it.
	pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
		Self::parse(Bytes::Owned(bytes))
	}

	fn parse(bytes: Bytes) -> Result<Self> {
		let (metadata, tensors, data_offset) = {
			let mut reader = Reader { bytes: bytes.as_slice(), position: 0 };
			let magic = reader.array::<4>("magic")?;
			if magic != MAGIC {
				return Err(GgufError::BadMagic(magic));
			}
			let version = reader.u32("version")?;
			if version != VERSION {
				return Err(GgufError::UnsupportedVersion(version));
			}
			// Each tensor info takes at least 28 bytes, each metadata pair at least 13.
			let tensor_count = reader.count("tensor count", 28)?;
			let metadata_count = reader.count("metadata count", 13)?;

			let mut metadata = BTreeMap::new();
			for _ in 0..metadata_count {
				let key = reader.string("metadata key")?;
				let type_id = reader.u32("metadata value type")?;
				let value = reader.value(&key, type_id, 0)?;
				metadata.insert(key, value);
			}

			let mut tensors = Vec::with_capacity(tensor_count);
			for _ in 0..tensor_count {
				let name = reader.string("tensor name")?;
				let n_dims = reader.u32("tensor dimension count")?;
				if !(1..=4).contains(&n_dims) {
					return Err(GgufError::BadTensor {
						tensor: name,
						reason: format!("{n_dims} dimensions (1 to 4 allowed)"),
					});
				}
				let mut dims = Vec::with_capacity(n_dims as usize);
				for _ in 0..n_dims {
					dims.push(reader.u64("tensor dimension")?);
				}
				let type_id = reader.u32("tensor type")?;
				let tensor_type = TensorType::from_id(type_id).map_err(|type_name| {
					GgufError::UnsupportedTensorType {
						tensor: name.clone(),
						type_id,
						name: type_name,
					}
				})?;
				let offset = reader.u64("tensor offset")?;
				tensors.push(Self::tensor_info(name, dims, tensor_type, offset)?);
			}

			let alignment = match metadata.get("general.alignment") {
				None => DEFAULT_ALIGNMENT,
				Some(value) => value
					.as_u64()
					.filter(|alignment| alignment.is_power_of_two())
					.ok_or_else(|| GgufError::MissingMetadata {
						key: "general.alignment".into(),
						expected: "a power of two",
					})?,
			};
			let data_offset = (reader.position as u64).next_multiple_of(alignment);
			(metadata, tensors, data_offset)
		};

		let file_len = bytes.as_slice().len() as u64;
		for tensor in &tensors {
			let end = data_offset
				.checked_add(tensor.offset)
				.and_then(|start| start.checked_add(tensor.len));
			if end.is_none_or(|end| end > file_len) {
				return Err(GgufError::Truncated {
					what: "tensor data",
					offset: data_offset.saturating_add(tensor.offset),
					len: file_len,
				});
			}
		}

		let file = Self { bytes, metadata, tensors, data_offset };
		let architecture = file.architecture()?;
		if !SUPPORTED_ARCHITECTURES.contains(&architecture) {
			return Err(GgufError::UnsupportedArchitecture(architecture.to_string()));
		}
		Ok(file)
	}

	fn tensor_info(
		name: String,
		dims: Vec<u64>,
		tensor_type: TensorType,
		offset: u64,
	) -> Result<TensorInfo> {
		let bad = |reason: String| GgufError::BadTensor { tensor: name.clone(), reason };
		let elements = dims
			.iter()
			.try_fold(1u64, |product, dim| product.checked_mul(*dim))
			.ok_or_else(|| bad(format!("dimensions {dims:?} overflow")))?;
		let row = dims.first().copied().unwrap_or(0);
		if !row.is_multiple_of(tensor_type.block_len()) {
			return Err(bad(format!(
				"rows of {row} elements are not whole blocks of {}",
				tensor_type.block_len()
			)));
		}
		let len = (elements / tensor_type.block_len())
			.checked_mul(tensor_type.block_bytes())
			.ok_or_else(|| bad("size overflows".into()))?;
		Ok(TensorInfo { name, dims, tensor_type, offset, len })
	}

	/// `general.architecture`.
	pub fn architecture(&self) -> Result<&str> {
		self.metadata_str("general.architecture")
	}

	/// A string metadata value.
	pub fn metadata_str(&self, key: &str) -> Result<&str> {
		self.metadata
			.get(key)
			.and_then(Value::as_str)
			.ok_or_else(|| GgufError::MissingMetadata { key: key.into(), expected: "a string" })
	}

	/// An unsigned integer metadata value.
	pub fn metadata_u64(&self, key: &str) -> Result<u64> {
		self.metadata.get(key).and_then(Value::as_u64).ok_or_else(|| GgufError::MissingMetadata {
			key: key.into(),
			expected: "an unsigned integer",
		})
	}

	/// The tensor named `name`.
	pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
		self.tensors.iter().find(|tensor| tensor.name == name)
	}

	/// A tensor's raw bytes, as stored; `None` for a tensor that is not within this file (every
	/// tensor of the file's own table is: that is checked when it is opened).
	pub fn tensor_data(&self, tensor: &TensorInfo) -> Option<&[u8]> {
		let start = usize::try_from(self.data_offset.checked_add(tensor.offset)?).ok()?;
		let end = start.checked_add(usize::try_from(tensor.len).ok()?)?;
		self.bytes.as_slice().get(start..end)
	}
}
