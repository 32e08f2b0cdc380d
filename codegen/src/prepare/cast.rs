//! CAST between integer types and float32 (TFLM `cast.cc`: `static_cast` element by element).
//! Between integers it wraps modulo the output type's range on the compilers TFLM runs on; an
//! integer becomes the nearest float32; a float32 becomes an integer truncated towards zero.
//! C leaves a float out of the integer type's range undefined (x86 and Arm disagree); kiln
//! saturates there, as Arm's conversion instructions do.

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};

/// The types CAST converts between.
const CASTABLE: [DType; 7] = [
    DType::I8,
    DType::U8,
    DType::I16,
    DType::I32,
    DType::U32,
    DType::I64,
    DType::F32,
];

/// Validates a CAST.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    for (t, role) in [(input, "input"), (output, "output")] {
        if !CASTABLE.contains(&t.1.dtype) {
            return Err(cx.err(format!(
                "{role} {} is {}; kiln casts between int8, uint8, int16, int32, uint32, int64 \
                 and float32",
                cx.describe(t.0),
                t.1.dtype
            )));
        }
    }
    if input.1.elements() != output.1.elements() {
        return Err(cx.err(format!(
            "input {} has {} elements, output {} {}",
            cx.describe(input.0),
            input.1.elements(),
            cx.describe(output.0),
            output.1.elements()
        )));
    }
    Ok((
        Kernel::Cast {
            from: input.1.dtype,
            to: output.1.dtype,
        },
        vec![input.0],
        0,
    ))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;
    use crate::ir::DType;

    #[test]
    fn cast_is_between_numbers_of_equal_count() {
        let cast = |from: DType, to: DType, n: usize| {
            run(
                OpKind::Cast,
                "CAST",
                vec![typed(from, &[n]), typed(to, &[4])],
                &[0],
                1,
            )
        };
        assert!(matches!(
            cast(DType::U32, DType::I32, 4),
            Ok(Kernel::Cast {
                from: DType::U32,
                to: DType::I32
            })
        ));
        assert!(cast(DType::F32, DType::I8, 4).is_ok());
        let err = cast(DType::Bool, DType::I32, 4).unwrap_err();
        assert!(err.contains("and float32"), "{err}");
        let err = cast(DType::I16, DType::I32, 5).unwrap_err();
        assert!(err.contains("5 elements"), "{err}");
    }
}
