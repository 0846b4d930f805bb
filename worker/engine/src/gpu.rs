//! The wgpu backend: the integer path's matrix-vector products in a WGSL compute shader
//! (`matvec.wgsl`), on whatever adapter wgpu finds (Vulkan, Metal, DX12; Mesa lavapipe on a
//! machine without a GPU).
//!
//! The shader computes each row's exact 128-bit accumulator; the host finishes it with the same
//! rounded division as the CPU path, and runs the vector operations between the products with
//! the same code. Every step is integer arithmetic, so both backends produce the same bits.

use std::{collections::HashMap, sync::mpsc};

use wgpu::util::DeviceExt;

use crate::{
	integer::{finish_row, QuantVec, BLOCK},
	model::{Matrix, Weights},
};

/// Why the wgpu backend cannot start or run.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
	/// wgpu found no adapter at all.
	#[error("no GPU adapter found: wgpu sees no Vulkan, Metal or DX12 device (install a driver, or Mesa's lavapipe for a CPU one)")]
	NoAdapter,
	/// No adapter has the asked-for name.
	#[error("no GPU adapter named like {wanted:?}; adapters seen: {seen}")]
	NoSuchAdapter {
		/// The name asked for.
		wanted: String,
		/// Every adapter wgpu found.
		seen: String,
	},
	/// The adapter cannot run the shader.
	#[error("adapter {adapter:?} lacks 64-bit integers in shaders, which the integer path needs")]
	NoInt64 {
		/// Its name.
		adapter: String,
	},
	/// A matrix larger than the adapter's largest storage buffer.
	#[error("tensor `{tensor}` has {bytes} bytes; adapter {adapter:?} binds at most {limit}")]
	TooLarge {
		/// The tensor.
		tensor: String,
		/// Its size.
		bytes: u64,
		/// The adapter.
		adapter: String,
		/// Its limit.
		limit: u64,
	},
	/// The device could not be opened or failed while running.
	#[error("GPU device error: {0}")]
	Device(String),
}

/// Which adapter to run on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AdapterChoice {
	/// The best one found: a discrete GPU, then an integrated one, a virtual one, and a CPU
	/// driver (lavapipe) last.
	#[default]
	Best,
	/// The first adapter whose name contains this text (case-insensitive).
	Named(String),
}

/// An adapter wgpu can see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterSummary {
	/// Its name (`NVIDIA H100`, `llvmpipe (LLVM 15.0.6, 256 bits)`).
	pub name: String,
	/// Discrete, integrated, virtual, CPU or other.
	pub kind: String,
	/// Vulkan, Metal, DX12.
	pub api: String,
	/// Whether it has the 64-bit shader integers the engine needs.
	pub usable: bool,
}

fn instance() -> wgpu::Instance {
	let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
	descriptor.backends = wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12;
	wgpu::Instance::new(descriptor)
}

fn summary(adapter: &wgpu::Adapter) -> AdapterSummary {
	let info = adapter.get_info();
	AdapterSummary {
		name: info.name,
		kind: format!("{:?}", info.device_type),
		api: format!("{:?}", info.backend),
		usable: adapter.features().contains(wgpu::Features::SHADER_INT64),
	}
}

/// Every adapter wgpu can see on this machine.
pub fn adapters() -> Vec<AdapterSummary> {
	pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
		.iter()
		.map(summary)
		.collect()
}

fn preference(kind: wgpu::DeviceType) -> u8 {
	match kind {
		wgpu::DeviceType::DiscreteGpu => 0,
		wgpu::DeviceType::IntegratedGpu => 1,
		wgpu::DeviceType::VirtualGpu => 2,
		wgpu::DeviceType::Other => 3,
		wgpu::DeviceType::Cpu => 4,
	}
}

fn pick(choice: &AdapterChoice) -> Result<wgpu::Adapter, GpuError> {
	let mut found = pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()));
	if found.is_empty() {
		return Err(GpuError::NoAdapter);
	}
	match choice {
		AdapterChoice::Best => {
			// Usable adapters first, then by kind; the sort is stable, so wgpu's order breaks ties.
			found.sort_by_key(|a| {
				(
					!a.features().contains(wgpu::Features::SHADER_INT64),
					preference(a.get_info().device_type),
				)
			});
			found.into_iter().next().ok_or(GpuError::NoAdapter)
		},
		AdapterChoice::Named(wanted) => {
			let needle = wanted.to_lowercase();
			let seen = found.iter().map(|a| a.get_info().name).collect::<Vec<_>>().join(", ");
			found
				.into_iter()
				.find(|a| a.get_info().name.to_lowercase().contains(&needle))
				.ok_or(GpuError::NoSuchAdapter { wanted: wanted.clone(), seen })
		},
	}
}

/// The parameters block of the shader.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
	rows: u32,
	blocks: u32,
	kind: u32,
	row_bytes: u32,
}

/// A weight matrix resident on the device.
struct DeviceMatrix {
	weights: wgpu::Buffer,
	params: wgpu::Buffer,
	rows: usize,
}

/// Where one product's accumulators land and are read back.
struct Slot {
	accumulators: wgpu::Buffer,
	readback: wgpu::Buffer,
}

/// An opened device with the model's matrices uploaded.
pub struct GpuMatvec {
	adapter: AdapterSummary,
	device: wgpu::Device,
	queue: wgpu::Queue,
	pipeline: wgpu::ComputePipeline,
	layout: wgpu::BindGroupLayout,
	/// Keyed by the tensor's offset in the file.
	matrices: HashMap<u64, DeviceMatrix>,
	quants: wgpu::Buffer,
	levels: wgpu::Buffer,
	slots: Vec<Slot>,
}

/// Most products submitted together (query, key and value).
const SLOTS: usize = 3;

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
	wgpu::BindGroupLayoutEntry {
		binding,
		visibility: wgpu::ShaderStages::COMPUTE,
		ty: wgpu::BindingType::Buffer {
			ty: wgpu::BufferBindingType::Storage { read_only },
			has_dynamic_offset: false,
			min_binding_size: None,
		},
		count: None,
	}
}

impl GpuMatvec {
	/// Opens the chosen adapter and uploads every matrix the forward pass multiplies by.
	pub(crate) fn new(weights: &Weights, choice: &AdapterChoice) -> Result<Self, GpuError> {
		let adapter = pick(choice)?;
		let summary = summary(&adapter);
		if !summary.usable {
			return Err(GpuError::NoInt64 { adapter: summary.name });
		}
		let limits = adapter.limits();
		let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
			label: Some("commons-engine"),
			required_features: wgpu::Features::SHADER_INT64,
			required_limits: limits.clone(),
			..Default::default()
		}))
		.map_err(|e| GpuError::Device(e.to_string()))?;
		let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
			label: Some("matvec"),
			source: wgpu::ShaderSource::Wgsl(include_str!("matvec.wgsl").into()),
		});
		let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
			label: Some("matvec"),
			entries: &[
				storage_entry(0, true),
				wgpu::BindGroupLayoutEntry {
					binding: 1,
					visibility: wgpu::ShaderStages::COMPUTE,
					ty: wgpu::BindingType::Buffer {
						ty: wgpu::BufferBindingType::Uniform,
						has_dynamic_offset: false,
						min_binding_size: None,
					},
					count: None,
				},
				storage_entry(2, true),
				storage_entry(3, true),
				storage_entry(4, false),
			],
		});
		let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
			label: Some("matvec"),
			bind_group_layouts: &[Some(&layout)],
			immediate_size: 0,
		});
		let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
			label: Some("matvec"),
			layout: Some(&pipeline_layout),
			module: &module,
			entry_point: Some("main"),
			compilation_options: Default::default(),
			cache: None,
		});

		let mut matrices = HashMap::new();
		let (mut max_rows, mut max_cols) = (0, 0);
		for matrix in weights.matrices() {
			if matrices.contains_key(&matrix.info.offset) {
				continue;
			}
			let data = weights.data(matrix);
			// Whole words, plus one so that an unaligned read of the last word stays inside.
			let mut bytes = data.to_vec();
			bytes.resize((data.len() / 4 + 2) * 4, 0);
			let limit = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
			if bytes.len() as u64 > limit {
				return Err(GpuError::TooLarge {
					tensor: matrix.info.name.clone(),
					bytes: bytes.len() as u64,
					adapter: summary.name,
					limit,
				});
			}
			let ty = matrix.info.tensor_type;
			let blocks = matrix.cols / BLOCK;
			let params = Params {
				rows: matrix.rows as u32,
				blocks: blocks as u32,
				kind: u32::from(ty != crate::gguf::TensorType::Q8_0),
				row_bytes: (blocks as u64 * ty.block_bytes()) as u32,
			};
			let label = Some(matrix.info.name.as_str());
			matrices.insert(
				matrix.info.offset,
				DeviceMatrix {
					weights: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
						label,
						contents: &bytes,
						usage: wgpu::BufferUsages::STORAGE,
					}),
					params: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
						label,
						contents: bytemuck::bytes_of(&params),
						usage: wgpu::BufferUsages::UNIFORM,
					}),
					rows: matrix.rows,
				},
			);
			max_rows = max_rows.max(matrix.rows);
			max_cols = max_cols.max(matrix.cols);
		}
		let buffer = |label: &str, size: usize, usage: wgpu::BufferUsages| {
			device.create_buffer(&wgpu::BufferDescriptor {
				label: Some(label),
				size: size as u64,
				usage,
				mapped_at_creation: false,
			})
		};
		let copy_dst = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
		let quants = buffer("quants", 2 * max_cols, copy_dst);
		let levels = buffer("levels", 4 * 8 * (max_cols / BLOCK), copy_dst);
		let slots = (0..SLOTS)
			.map(|_| Slot {
				accumulators: buffer(
					"accumulators",
					16 * max_rows,
					wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
				),
				readback: buffer(
					"readback",
					16 * max_rows,
					wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
				),
			})
			.collect();
		Ok(Self {
			adapter: summary,
			device,
			queue,
			pipeline,
			layout,
			matrices,
			quants,
			levels,
			slots,
		})
	}

	/// The adapter in use.
	pub fn adapter(&self) -> &AdapterSummary {
		&self.adapter
	}

	/// `W x` for up to three matrices of the same width, in one submission.
	pub(crate) fn matvecs(
		&self,
		matrices: &[&Matrix],
		x: &QuantVec,
	) -> Result<Vec<Vec<i32>>, GpuError> {
		if matrices.len() > self.slots.len() {
			return Err(GpuError::Device(format!("{} products in one submission", matrices.len())));
		}
		let mut quants = Vec::with_capacity(x.q1.len() * 2);
		quants.extend(x.q1.iter().chain(&x.q2).map(|q| *q as u8));
		let mut levels = Vec::with_capacity(x.scale1.len() * 4);
		for (b, (t1, t2)) in x.sums.iter().enumerate() {
			levels.extend([x.scale1[b], x.scale2[b], *t1, *t2]);
		}
		self.queue.write_buffer(&self.quants, 0, &quants);
		self.queue.write_buffer(&self.levels, 0, bytemuck::cast_slice(&levels));
		let mut encoder = self.device.create_command_encoder(&Default::default());
		let mut rows = Vec::with_capacity(matrices.len());
		for (matrix, slot) in matrices.iter().zip(&self.slots) {
			let resident = self.matrices.get(&matrix.info.offset).ok_or_else(|| {
				GpuError::Device(format!("tensor `{}` is not on the device", matrix.info.name))
			})?;
			let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
				label: None,
				layout: &self.layout,
				entries: &[
					wgpu::BindGroupEntry {
						binding: 0,
						resource: resident.weights.as_entire_binding(),
					},
					wgpu::BindGroupEntry {
						binding: 1,
						resource: resident.params.as_entire_binding(),
					},
					wgpu::BindGroupEntry { binding: 2, resource: self.quants.as_entire_binding() },
					wgpu::BindGroupEntry { binding: 3, resource: self.levels.as_entire_binding() },
					wgpu::BindGroupEntry {
						binding: 4,
						resource: slot.accumulators.as_entire_binding(),
					},
				],
			});
			{
				let mut pass = encoder.begin_compute_pass(&Default::default());
				pass.set_pipeline(&self.pipeline);
				pass.set_bind_group(0, &bind_group, &[]);
				pass.dispatch_workgroups(resident.rows.div_ceil(64) as u32, 1, 1);
			}
			let bytes = 16 * resident.rows as u64;
			encoder.copy_buffer_to_buffer(&slot.accumulators, 0, &slot.readback, 0, bytes);
			rows.push(resident.rows);
		}
		self.queue.submit([encoder.finish()]);

		let (sender, receiver) = mpsc::channel();
		for (slot, rows) in self.slots.iter().zip(&rows) {
			let sender = sender.clone();
			slot.readback.map_async(wgpu::MapMode::Read, ..16 * *rows as u64, move |r| {
				let _ = sender.send(r);
			});
		}
		self.device
			.poll(wgpu::PollType::wait_indefinitely())
			.map_err(|e| GpuError::Device(e.to_string()))?;
		for _ in &rows {
			receiver
				.recv()
				.map_err(|e| GpuError::Device(e.to_string()))?
				.map_err(|e| GpuError::Device(e.to_string()))?;
		}
		let mut out = Vec::with_capacity(rows.len());
		for (slot, rows) in self.slots.iter().zip(&rows) {
			{
				let view = slot
					.readback
					.get_mapped_range(..16 * *rows as u64)
					.map_err(|e| GpuError::Device(e.to_string()))?;
				out.push(
					view.chunks_exact(16)
						.map(|w| {
							let mut bytes = [0u8; 16];
							bytes.copy_from_slice(w);
							finish_row(i128::from_le_bytes(bytes))
						})
						.collect(),
				);
			}
			slot.readback.unmap();
		}
		Ok(out)
	}
}
