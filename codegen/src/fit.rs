//! The fit check: does a compiled model fit a board's flash and RAM?
//!
//! Flash = constant data (exact) + code (estimated from the core profile's per-layer and
//! runtime sizes, calibrated on the QEMU benchmark's measured sizes; within about ±50%). RAM = arena + input + output buffers (exact); the stack comes on top and
//! is measured on the target by the benchmark, not estimated here.

use std::fmt;

use kiln_targets::{Board, Core};

use crate::compiled::Compiled;
use crate::layer::Kernel;
use crate::tune::Tuning;

/// Code bytes per non-zero weight of an unrolled layer (QEMU builds: 12-17 on M0 and M4).
const UNROLLED_BYTES_PER_WEIGHT: usize = 14;

/// Memory figures of a model on a board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// Constant data in flash (weights, biases, requantization tables), bytes.
    pub weight_bytes: usize,
    /// Estimated code size, bytes.
    pub code_bytes: usize,
    /// Arena bytes.
    pub arena_bytes: usize,
    /// Input and output buffer bytes.
    pub io_bytes: usize,
    /// Kernel scratch bytes (input patches of the convolutions).
    pub scratch_bytes: usize,
    /// Stack `predict` needs, at most ([`stack_bytes`]).
    pub stack_bytes: usize,
}

/// The stack `Model::predict` needs on `core`, at most: the core's bound measured by
/// `kiln-bench mcu` (`Core::stack_bytes`). Portable code (no core) gets the largest bound of
/// the cores kiln knows, which no core measured for it.
pub fn stack_bytes(core: Option<&Core>) -> usize {
    core.map_or_else(
        || {
            kiln_targets::CORES
                .iter()
                .map(|c| c.stack_bytes)
                .max()
                .unwrap_or(0)
        },
        |c| c.stack_bytes,
    )
}

impl Footprint {
    /// Of a compiled model, with code estimated for `board`'s core.
    pub fn of(model: &Compiled, board: &Board) -> Footprint {
        let core = board.core;
        let tuning = Tuning::for_core(core);
        let code_bytes = core.code_bytes_base
            + model
                .layers
                .iter()
                .zip(&model.plan.runs)
                .filter(|(_, &runs)| runs)
                .map(|(layer, _)| match &layer.kernel {
                    Kernel::Conv2d(..)
                    | Kernel::DepthwiseConv2d(..)
                    | Kernel::Conv2dF32(..)
                    | Kernel::DepthwiseConv2dF32(..) => core.code_bytes_per_conv_layer,
                    // Straight-line layers: ~14 bytes of code per non-zero weight (measured).
                    Kernel::FullyConnected(_, w) if tuning.unrolls(layer) => {
                        w.filter.iter().filter(|&&v| v != 0).count() * UNROLLED_BYTES_PER_WEIGHT
                    }
                    Kernel::FullyConnected(..)
                    | Kernel::AveragePool(_)
                    | Kernel::MaxPool(_)
                    | Kernel::Add(_)
                    | Kernel::AddTabled(..)
                    | Kernel::Softmax(_)
                    | Kernel::QuantizeF32(_)
                    | Kernel::Requantize(_)
                    | Kernel::Dequantize(_)
                    | Kernel::Reshape
                    | Kernel::FullyConnectedF32(..)
                    | Kernel::PoolF32 { .. }
                    | Kernel::ArithF32 { .. }
                    | Kernel::SquaredDifferenceF32(_)
                    | Kernel::ActivationF32(_)
                    | Kernel::LeakyReluF32(_)
                    | Kernel::MeanF32(_)
                    | Kernel::SoftmaxF32(_)
                    | Kernel::AddBroadcast(..)
                    | Kernel::Mul(..)
                    | Kernel::Sub(..)
                    | Kernel::Lookup(_)
                    | Kernel::Mean(_)
                    | Kernel::Pad(_)
                    | Kernel::Concatenation(_)
                    | Kernel::Gather(_)
                    | Kernel::SquaredDifference(..)
                    | Kernel::SliceRows { .. }
                    | Kernel::MaxMin { .. }
                    | Kernel::AbsF32
                    | Kernel::NegF32
                    | Kernel::Reduce { .. }
                    | Kernel::ArgMinMax { .. }
                    | Kernel::LstmI8(..)
                    | Kernel::LstmF32(..)
                    | Kernel::SvdfI8(..)
                    | Kernel::SvdfF32(..)
                    | Kernel::ConvI16 { .. }
                    | Kernel::ConvQLinear(..)
                    | Kernel::DynamicQuantizeMatMul(..)
                    | Kernel::DynamicQuantizeConv(..)
                    | Kernel::QuantizeLinear(_)
                    | Kernel::AddQLinear(_)
                    | Kernel::AddQLinearBroadcast(..)
                    | Kernel::MulQLinear(..)
                    | Kernel::SoftmaxQLinear(..)
                    | Kernel::AvgPoolQLinear(_)
                    | Kernel::ActivationI16 { .. }
                    | Kernel::AddSubI16 { .. }
                    | Kernel::MulI16(..)
                    | Kernel::SquaredDifferenceI16(..)
                    | Kernel::PoolI16 { .. }
                    | Kernel::MeanI16(_)
                    | Kernel::LeakyReluI16(_)
                    | Kernel::ReluI16(_)
                    | Kernel::AbsI16(_)
                    | Kernel::Relu6I16(_)
                    | Kernel::SoftmaxI16 { .. }
                    | Kernel::QuantizeF32I16(_)
                    | Kernel::RequantizeToI16(_)
                    | Kernel::RequantizeI16ToI8(_)
                    | Kernel::RequantizeU8ToI8(_)
                    | Kernel::RequantizeI8ToU8(_)
                    | Kernel::DequantizeU8(_)
                    | Kernel::DequantizeI16(_)
                    | Kernel::TransposeConv(..)
                    | Kernel::TransposeConvF32(..)
                    | Kernel::BatchMatmul(_)
                    | Kernel::BatchMatmulF32(_)
                    | Kernel::L2PoolF32(_)
                    | Kernel::EmbeddingDequantized(_)
                    | Kernel::AddNF32
                    | Kernel::AddN(_)
                    | Kernel::FloorDivMod { .. } => core.code_bytes_per_layer,
                    Kernel::TableGather { .. }
                    | Kernel::GatherRows(_)
                    | Kernel::ResizeBilinear { .. }
                    | Kernel::ResizeBilinearF32 { .. }
                    | Kernel::Fill
                    | Kernel::Zeros
                    | Kernel::Cumsum(_) => core.code_bytes_per_layer,
                    Kernel::Prelu(..)
                    | Kernel::PreluF32(_)
                    | Kernel::MapF32(_)
                    | Kernel::Div(..)
                    | Kernel::DivF32(..)
                    | Kernel::Sum(_)
                    | Kernel::SumF32(_)
                    | Kernel::L2Normalization { .. }
                    | Kernel::L2NormalizationF32(_)
                    | Kernel::LogSoftmax(_)
                    | Kernel::LogSoftmaxF32(_)
                    | Kernel::Compare { .. }
                    | Kernel::Select(_)
                    | Kernel::Logical { .. }
                    | Kernel::LogicalNot => core.code_bytes_per_layer,
                    Kernel::Cast { .. }
                    | Kernel::IntArith { .. }
                    | Kernel::SignalWindow(_)
                    | Kernel::SignalFftAutoScale { .. }
                    | Kernel::SignalRfft(..)
                    | Kernel::SignalEnergy(_)
                    | Kernel::SignalFilterBank
                    | Kernel::SignalFilterBankSquareRoot
                    | Kernel::SignalSpectralSubtraction(_)
                    | Kernel::SignalNoiseEstimate
                    | Kernel::SignalPcan(_)
                    | Kernel::SignalFilterBankLog(_) => core.code_bytes_per_layer,
                })
                .sum::<usize>();
        let g = &model.graph;
        // Kernel scratch, the LSTM's gate scratch and the state live in the model beside the
        // arena.
        let scratch_bytes = model
            .layers
            .iter()
            .zip(&model.plan.in_place)
            .map(|(l, in_place)| {
                tuning.scratch_len(l, in_place.is_some())
                    * if tuning.scratch_type() == "u32" { 4 } else { 1 }
            })
            .max()
            .unwrap_or(0)
            + model
                .layers
                .iter()
                .map(|l| 2 * l.lstm_gates_len())
                .max()
                .unwrap_or(0)
            + model.state_bytes();
        Footprint {
            scratch_bytes,
            stack_bytes: stack_bytes(Some(core)),
            weight_bytes: model.weight_bytes(),
            code_bytes,
            arena_bytes: model.plan.arena_bytes,
            io_bytes: g
                .inputs
                .iter()
                .chain(&g.outputs)
                .map(|&t| g.tensors[t].bytes())
                .sum(),
        }
    }

    /// Flash needed.
    pub fn flash(&self) -> usize {
        self.weight_bytes + self.code_bytes
    }

    /// RAM needed, the stack of `predict` included.
    pub fn ram(&self) -> usize {
        self.arena_bytes + self.io_bytes + self.scratch_bytes + self.stack_bytes
    }
}

/// A model that does not fit its board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FitError {
    /// The board's name.
    pub board: &'static str,
    /// The figures.
    pub footprint: Footprint,
    /// The board's flash, bytes.
    pub flash_limit: usize,
    /// The board's RAM, bytes.
    pub ram_limit: usize,
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.footprint;
        write!(f, "the model does not fit {}:", self.board)?;
        if p.flash() > self.flash_limit {
            write!(
                f,
                " flash needs about {} bytes (weights {} + code ~{} estimated) but the board has {}",
                p.flash(),
                p.weight_bytes,
                p.code_bytes,
                self.flash_limit
            )?;
            if p.ram() > self.ram_limit {
                f.write_str(";")?;
            }
        }
        if p.ram() > self.ram_limit {
            write!(
                f,
                " RAM needs {} bytes (arena {} + input/output {} + scratch {} + stack {}) but the board has {}",
                p.ram(),
                p.arena_bytes,
                p.io_bytes,
                p.scratch_bytes,
                p.stack_bytes,
                self.ram_limit
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for FitError {}

/// Checks `model` against `board`'s flash and RAM.
pub fn check(model: &Compiled, board: &'static Board) -> Result<Footprint, FitError> {
    let footprint = Footprint::of(model, board);
    if footprint.flash() > board.flash_bytes || footprint.ram() > board.ram_bytes {
        return Err(FitError {
            board: board.name,
            footprint,
            flash_limit: board.flash_bytes,
            ram_limit: board.ram_bytes,
        });
    }
    Ok(footprint)
}
