//! Opening a GPU and talking to it: adapter choice, the device with the
//! adapter's own limits, buffers checked against those limits, submissions
//! waited on, results read back, and every asynchronous wgpu error (validation,
//! out of memory, device lost) turned into an [`Error::Gpu`] at the next wait.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use gramrec_core::{set, Error, Result};
use wgpu::util::DeviceExt;

use crate::config::{GpuApis, GpuOptions};

/// Why no GPU is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// No adapter that can run compute shaders.
    NoAdapter,
    /// Only a software rasteriser (lavapipe, llvmpipe, WARP), which is slower
    /// than the CPU backend; `--device gpu` uses it anyway.
    SoftwareOnly(String),
    /// The adapter would not give a device.
    DeviceRequest(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::NoAdapter => f.write_str(
                "no GPU adapter found (needs a Vulkan, Metal or DX12 driver; a software one on Debian: \
                 apt-get install mesa-vulkan-drivers)",
            ),
            Unavailable::SoftwareOnly(name) => {
                write!(
                    f,
                    "the only GPU adapter is a software one ({name}), slower than the CPU; {} uses it",
                    set("device", "gpu")
                )
            }
            Unavailable::DeviceRequest(e) => write!(f, "the GPU adapter refused a device: {e}"),
        }
    }
}

/// The first asynchronous failure the device reported.
type Fault = Arc<Mutex<Option<String>>>;

/// An open GPU device and its queue.
pub struct Gpu {
    /// The device.
    pub device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    fault: Fault,
}

/// wgpu's set of backends for the APIs asked for.
fn backends(apis: GpuApis) -> wgpu::Backends {
    let mut b = wgpu::Backends::empty();
    for (on, backend) in
        [(apis.vulkan, wgpu::Backends::VULKAN), (apis.metal, wgpu::Backends::METAL), (apis.dx12, wgpu::Backends::DX12)]
    {
        if on {
            b |= backend;
        }
    }
    b
}

/// Preference among adapters: real GPUs first, discrete before integrated.
fn rank(kind: wgpu::DeviceType) -> u8 {
    match kind {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

fn record(fault: &Fault, message: String) {
    let mut slot = fault.lock().unwrap_or_else(|e| e.into_inner());
    slot.get_or_insert(message);
}

/// One line from a wgpu error, which spans several: its chain of causes
/// joined, without the headings and the shader source excerpts.
fn one_line(message: &str) -> String {
    let causes: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(['│', '┌']) && *l != "Caused by:")
        .collect();
    if causes.is_empty() {
        "unknown error".into()
    } else {
        causes.join(": ")
    }
}

impl Gpu {
    /// Opens the best adapter: a discrete GPU before an integrated one, and a
    /// software one only with `allow_software`. The device gets the adapter's
    /// own limits (bigger buffers than WebGPU's defaults on real GPUs), or
    /// with `webgpu_limits` only WebGPU's defaults, which every adapter offers
    /// (the tests check that the kernels fit them).
    pub fn open(options: GpuOptions) -> Result<Self, Unavailable> {
        let backends = backends(options.apis);
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let mut adapters: Vec<wgpu::Adapter> = pollster::block_on(instance.enumerate_adapters(backends))
            .into_iter()
            .filter(|a| a.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS))
            .collect();
        adapters.sort_by_key(|a| rank(a.get_info().device_type));
        let adapter = adapters.into_iter().next().ok_or(Unavailable::NoAdapter)?;
        let info = adapter.get_info();
        if info.device_type == wgpu::DeviceType::Cpu && !options.allow_software {
            return Err(Unavailable::SoftwareOnly(info.name));
        }
        let limits = if options.webgpu_limits { wgpu::Limits::defaults() } else { adapter.limits() };
        let descriptor = wgpu::DeviceDescriptor {
            label: Some("gramrec"),
            required_limits: limits.clone(),
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&descriptor))
            .map_err(|e| Unavailable::DeviceRequest(one_line(&e.to_string())))?;
        let fault: Fault = Arc::default();
        let sink = fault.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let message = match &e {
                wgpu::Error::OutOfMemory { .. } => "the GPU ran out of memory".to_string(),
                other => one_line(&other.to_string()),
            };
            record(&sink, message);
        }));
        let sink = fault.clone();
        device.set_device_lost_callback(move |reason, message| {
            let why = if message.is_empty() { format!("{reason:?}") } else { one_line(&message) };
            record(&sink, format!("the GPU device was lost ({why})"));
        });
        Ok(Self { device, queue, info, limits, fault })
    }

    /// "NVIDIA H100 (Vulkan)".
    pub fn name(&self) -> String {
        format!("{} ({:?})", self.info.name, self.info.backend)
    }

    /// Whether the adapter is a software rasteriser (lavapipe, llvmpipe, WARP).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// The device's limits.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// The largest buffer a kernel can bind.
    pub fn max_binding(&self) -> u64 {
        self.limits.max_storage_buffer_binding_size.min(self.limits.max_buffer_size)
    }

    /// Refuses a buffer bigger than the device can bind, naming it.
    pub fn check_size(&self, what: &str, bytes: u64) -> Result<()> {
        if bytes > self.max_binding() {
            return Err(Error::Gpu(format!(
                "{what} needs {:.1} MiB, but this GPU binds at most {:.1} MiB per buffer; use {}",
                bytes as f64 / (1u64 << 20) as f64,
                self.max_binding() as f64 / (1u64 << 20) as f64,
                set("device", "cpu")
            )));
        }
        Ok(())
    }

    /// A storage buffer holding `data` (at least 4 bytes: bindings cannot be empty).
    pub fn upload<T: bytemuck::Pod>(&self, what: &str, data: &[T], usage: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let mut padded = Vec::new();
        let contents = if bytes.len() >= 4 && bytes.len().is_multiple_of(4) {
            bytes // the usual case: no copy
        } else {
            padded.extend_from_slice(bytes);
            padded.resize(bytes.len().max(4).next_multiple_of(4), 0);
            &padded
        };
        self.check_size(what, contents.len() as u64)?;
        Ok(self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(what),
            contents,
            usage: usage | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        }))
    }

    /// A zeroed storage buffer of `bytes` (at least 4).
    pub fn scratch(&self, what: &str, bytes: u64) -> Result<wgpu::Buffer> {
        let size = bytes.max(4).next_multiple_of(4);
        self.check_size(what, size)?;
        Ok(self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(what),
            size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        }))
    }

    /// Writes `data` at the start of `buffer` before the next submission.
    pub fn write<T: bytemuck::Pod>(&self, buffer: &wgpu::Buffer, data: &[T]) {
        self.queue.write_buffer(buffer, 0, bytemuck::cast_slice(data));
    }

    /// A command encoder.
    pub fn encoder(&self) -> wgpu::CommandEncoder {
        self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None })
    }

    /// The first failure the device has reported, if any.
    pub fn check(&self) -> Result<()> {
        match self.fault.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(message) => Err(Error::Gpu(message.clone())),
            None => Ok(()),
        }
    }

    /// Submits the commands and waits until the GPU has run them.
    pub fn run(&self, encoder: wgpu::CommandEncoder) -> Result<()> {
        let index = self.submit(encoder)?;
        self.wait(index)
    }

    /// Submits the commands without waiting (the buffer writes queued before
    /// them run first).
    pub fn submit(&self, encoder: wgpu::CommandEncoder) -> Result<wgpu::SubmissionIndex> {
        self.check()?;
        Ok(self.queue.submit([encoder.finish()]))
    }

    /// Waits until the GPU has run a submission and everything before it.
    pub fn wait(&self, index: wgpu::SubmissionIndex) -> Result<()> {
        let waited = self.device.poll(wgpu::PollType::Wait { submission_index: Some(index), timeout: None });
        if waited.is_err() {
            // A refused submission: let pending callbacks (device lost) report why.
            let _ = self.device.poll(wgpu::PollType::Poll);
        }
        self.check()?;
        waited.map(drop).map_err(|e| match e {
            wgpu::PollError::WrongSubmissionIndex(..) => {
                Error::Gpu("the GPU refused the work (the device was probably lost)".into())
            }
            other => Error::Gpu(format!("waiting for the GPU failed: {other}")),
        })
    }

    /// Copies `count` values of `T` from `buffer` at byte `offset` to the host.
    pub fn read<T: bytemuck::Pod>(&self, buffer: &wgpu::Buffer, offset: u64, count: usize) -> Result<Vec<T>> {
        let bytes = (count * std::mem::size_of::<T>()) as u64;
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.encoder();
        encoder.copy_buffer_to_buffer(buffer, offset, &staging, 0, bytes);
        self.run(encoder)?;
        let (sender, receiver) = mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| drop(sender.send(r)));
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))?;
        self.check()?;
        receiver
            .recv()
            .map_err(|_| Error::Gpu("reading back from the GPU did not complete".into()))?
            .map_err(|e| Error::Gpu(format!("reading back from the GPU failed: {e}")))?;
        let view = staging.get_mapped_range(..).map_err(|e| Error::Gpu(format!("reading back failed: {e}")))?;
        let values = bytemuck::pod_collect_to_vec::<u8, T>(&view);
        drop(view);
        staging.unmap();
        Ok(values)
    }

    /// Loses the device on purpose (fault injection for the tests).
    pub fn destroy(&self) {
        self.device.destroy();
    }
}
