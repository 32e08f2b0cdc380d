//! RESIZE_NEAREST_NEIGHBOR (int8, int16, float32; a [`rt::table_gather`]) and RESIZE_BILINEAR
//! (int8 through TFLM's integer path, float32; TFLM has no int16 form): 4-D NHWC input,
//! constant int32 size (TFLM `resize_nearest_neighbor.cc`, `resize_bilinear.cc` and their
//! reference kernels). The
//! source rows and columns are computed here, in TFLM's arithmetic (f32, or 10-bit integers).

use super::common::Prepared;
use super::movement::{axis_table, expect_shape, Tables};
use super::shapes::const_i32;
use super::shapes::expect_same_dtype;
use crate::ir::{DType, ResizeOptions, Tensor, TensorId};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// The checked operands: input, output, and `[batches, in_h, in_w, depth, out_h, out_w]`.
fn geometry<'g>(
    cx: &OpCx<'g>,
    o: &ResizeOptions,
    types: &[DType],
) -> Result<((TensorId, &'g Tensor), DType, rt::Resize), ValidateError> {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    let dtype = expect_same_dtype(cx, input, output, types)?;
    cx.expect_rank(input, 4, "input")?;
    let (size_id, size_t, size) = const_i32(cx, 1, "size")?;
    if size_t.shape.len() != 1 || size.len() != 2 || size.iter().any(|&s| s < 1) {
        return Err(cx.err(format!(
            "size {} must hold 2 positive values (height, width), holds {size:?}",
            cx.describe(size_id)
        )));
    }
    if o.align_corners && o.half_pixel_centers {
        return Err(cx.err("align_corners and half_pixel_centers are both set (TFLM refuses)"));
    }
    let s = &input.1.shape;
    let p = rt::Resize {
        batches: s[0],
        in_h: s[1],
        in_w: s[2],
        depth: s[3],
        out_h: size[0] as usize,
        out_w: size[1] as usize,
    };
    expect_shape(
        cx,
        output,
        &[p.batches, p.out_h, p.out_w, p.depth],
        "resizing to the size input",
    )?;
    Ok((input, dtype, p))
}

/// TFLM's `GetNearestNeighbor`: the input position output position `i` copies.
fn nearest(i: usize, input: usize, output: usize, o: &ResizeOptions) -> usize {
    let scale = if o.align_corners && output > 1 {
        (input - 1) as f32 / (output - 1) as f32
    } else {
        input as f32 / output as f32
    };
    let offset = if o.half_pixel_centers { 0.5f32 } else { 0.0 };
    let at = (i as f32 + offset) * scale;
    let picked = if o.align_corners {
        at.round()
    } else {
        at.floor()
    } as i64;
    picked.min(input as i64 - 1).max(0) as usize
}

/// Validates a RESIZE_NEAREST_NEIGHBOR and computes its source tables.
pub fn nearest_neighbor(cx: &OpCx, o: &ResizeOptions) -> Prepared {
    let (input, _, p) = geometry(cx, o, &[DType::I8, DType::I16, DType::F32])?;
    let (row, pixel) = (p.in_w * p.depth, p.depth);
    let axes = [
        axis_table(p.batches, p.in_h * row, Some),
        axis_table(p.out_h, row, |y| Some(nearest(y, p.in_h, p.out_h, o))),
        axis_table(p.out_w, pixel, |x| Some(nearest(x, p.in_w, p.out_w, o))),
        axis_table(p.depth, 1, Some),
    ];
    let mut t = Tables::default();
    t.part(cx, &axes)?;
    let kernel = Kernel::TableGather {
        parts: t.parts,
        tables: t.tables,
        outside: 0,
    };
    Ok((kernel, vec![input.0], 0))
}

/// TFLM's `ComputeInterpolationValuesInteger`: output position `i`'s rows, position in
/// 1/1024ths.
fn lerp_i8(i: usize, input: usize, output: usize, o: &ResizeOptions) -> rt::Lerp<i32> {
    let (input, output, i) = (input as i32, output as i32, i as i32);
    let scale = if o.align_corners && output > 1 {
        ((1 << 10) * (input - 1) + (output - 1) / 2) / (output - 1)
    } else {
        ((1 << 10) * input + output / 2) / output
    };
    let at = if o.half_pixel_centers {
        i * scale + scale / 2 - (1 << 9)
    } else {
        i * scale
    };
    let lo = (at / (1 << 10)).max(0);
    let hi = ((at + (1 << 10) - 1) / (1 << 10)).min(input - 1);
    rt::Lerp {
        lo: lo as usize,
        hi: hi as usize,
        frac: at - (1 << 10) * lo,
    }
}

/// TFLM's `ComputeInterpolationValues` (f32): output position `i`'s rows and position.
fn lerp_f32(i: usize, input: usize, output: usize, o: &ResizeOptions) -> rt::Lerp<f32> {
    let scale = if o.align_corners && output > 1 {
        (input - 1) as f32 / (output - 1) as f32
    } else {
        input as f32 / output as f32
    };
    let at = if o.half_pixel_centers {
        (i as f32 + 0.5) * scale - 0.5
    } else {
        i as f32 * scale
    };
    let lo = (at.floor() as i64).max(0);
    let hi = (at.ceil() as i64).min(input as i64 - 1);
    rt::Lerp {
        lo: lo as usize,
        hi: hi as usize,
        frac: at - lo as f32,
    }
}

/// Validates a RESIZE_BILINEAR and computes its rows and columns.
pub fn bilinear(cx: &OpCx, o: &ResizeOptions) -> Prepared {
    let (input, dtype, p) = geometry(cx, o, &[DType::I8, DType::F32])?;
    let kernel = if dtype == DType::I8 {
        Kernel::ResizeBilinear {
            rows: (0..p.out_h)
                .map(|y| lerp_i8(y, p.in_h, p.out_h, o))
                .collect(),
            cols: (0..p.out_w)
                .map(|x| lerp_i8(x, p.in_w, p.out_w, o))
                .collect(),
            params: p,
        }
    } else {
        Kernel::ResizeBilinearF32 {
            rows: (0..p.out_h)
                .map(|y| lerp_f32(y, p.in_h, p.out_h, o))
                .collect(),
            cols: (0..p.out_w)
                .map(|x| lerp_f32(x, p.in_w, p.out_w, o))
                .collect(),
            params: p,
        }
    };
    let macs = (p.batches * p.out_h * p.out_w * p.depth * 4) as u64;
    Ok((kernel, vec![input.0], macs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: ResizeOptions = ResizeOptions {
        align_corners: false,
        half_pixel_centers: false,
    };
    const ALIGN: ResizeOptions = ResizeOptions {
        align_corners: true,
        half_pixel_centers: false,
    };
    const HALF: ResizeOptions = ResizeOptions {
        align_corners: false,
        half_pixel_centers: true,
    };

    #[test]
    fn nearest_positions() {
        // 3 → 5: scale 0.6; floor, round (align: scale 0.5), half pixel
        let pick = |o: &ResizeOptions| (0..5).map(|i| nearest(i, 3, 5, o)).collect::<Vec<_>>();
        assert_eq!(pick(&PLAIN), [0, 0, 1, 1, 2]);
        assert_eq!(pick(&ALIGN), [0, 1, 1, 2, 2]);
        assert_eq!(pick(&HALF), [0, 0, 1, 2, 2]);
    }

    #[test]
    fn bilinear_positions() {
        // 2 → 4 with half pixels: scale 512/1024; y = 0 lies a quarter above row 0
        let l = lerp_i8(0, 2, 4, &HALF);
        assert_eq!((l.lo, l.hi, l.frac), (0, 0, -256));
        let l = lerp_i8(3, 2, 4, &HALF);
        assert_eq!((l.lo, l.hi, l.frac), (1, 1, 256));
        let l = lerp_f32(1, 2, 4, &HALF);
        assert_eq!((l.lo, l.hi, l.frac), (0, 1, 0.25));
        let l = lerp_i8(1, 3, 3, &ALIGN);
        assert_eq!((l.lo, l.hi, l.frac), (1, 1, 0));
    }
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;
    use crate::ir::ResizeOptions;

    #[test]
    fn resize_rules() {
        let resize = |o: ResizeOptions, size: &[i32], out: &[usize]| {
            run(
                OpKind::ResizeBilinear(o),
                "RESIZE_BILINEAR",
                vec![
                    int8(&[1, 4, 4, 3], 0.1, 0),
                    const_i32(size),
                    int8(out, 0.1, 0),
                ],
                &[0, 1],
                2,
            )
        };
        let plain = ResizeOptions {
            align_corners: false,
            half_pixel_centers: false,
        };
        assert!(resize(plain, &[8, 6], &[1, 8, 6, 3]).is_ok());
        assert!(resize(plain, &[8, 6], &[1, 8, 8, 3])
            .unwrap_err()
            .contains("gives [1, 8, 6, 3]"));
        let both = ResizeOptions {
            align_corners: true,
            half_pixel_centers: true,
        };
        assert!(resize(both, &[8, 6], &[1, 8, 6, 3])
            .unwrap_err()
            .contains("both set"));
    }
}
