//! FLOOR_DIV and FLOOR_MOD: float32 only, as in TFLM (`floor_div.cc`, `floor_mod.cc`),
//! numpy-style broadcasting up to 4 dimensions (TFLM's `BroadcastBinaryFunction4DSlow`).

use super::common::Prepared;
use super::shapes::{broadcast, expect_same_dtype};
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};

/// TFLM broadcasts these two operators over at most 4 dimensions.
const MAX_RANK: usize = 4;

/// Validates a FLOOR_DIV (`modulo` false) or FLOOR_MOD.
pub fn prepare(cx: &OpCx, modulo: bool) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    expect_same_dtype(cx, a, output, &[DType::F32])?;
    cx.expect_dtype(b, DType::F32, "second input")?;
    let bc = broadcast(cx, a, b, output)?;
    let rank = output.1.shape.len();
    if bc.is_some() && rank > MAX_RANK {
        return Err(cx.err(format!(
            "broadcasting over {rank} dimensions; TFLM's {} broadcasts at most {MAX_RANK}",
            cx.name
        )));
    }
    let kernel = Kernel::FloorDivMod {
        modulo,
        broadcast: bc,
    };
    Ok((kernel, vec![a.0, b.0], 0))
}
