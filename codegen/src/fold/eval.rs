//! Runs one prepared layer on the host, on constant inputs, with the runtime kernel its
//! generated code would call ([`evaluate`]): the compile-time half of constant folding.

use crate::ir::{Comparison, DType, Graph, Tensor};
use crate::layer::{FloatActivation, FloatArith, IntOp, Kernel, Layer};
use crate::runtime as rt;

/// A tensor's elements, typed.
#[derive(Clone, Debug, PartialEq)]
enum Values {
    I8(Vec<i8>),
    U8(Vec<u8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
}

/// Decodes little-endian bytes into `N`-byte elements.
fn decode<const N: usize, T>(bytes: &[u8], from: impl Fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|c| from(c.try_into().unwrap_or([0; N])))
        .collect()
}

impl Values {
    /// A constant tensor's elements (`None` for a tensor without data, or of a type kiln
    /// does not fold).
    fn of(t: &Tensor) -> Option<Values> {
        let bytes = t.data.as_deref()?;
        if bytes.len() != t.bytes() {
            return None;
        }
        Some(match t.dtype {
            DType::I8 => Values::I8(decode(bytes, i8::from_le_bytes)),
            DType::U8 => Values::U8(bytes.to_vec()),
            DType::I16 => Values::I16(decode(bytes, i16::from_le_bytes)),
            DType::I32 => Values::I32(decode(bytes, i32::from_le_bytes)),
            DType::I64 => Values::I64(decode(bytes, i64::from_le_bytes)),
            DType::F32 => Values::F32(decode(bytes, f32::from_le_bytes)),
            DType::Bool => Values::Bool(bytes.iter().map(|&b| b != 0).collect()),
            DType::U32 | DType::U64 => return None,
        })
    }

    /// `len` zeros of `dtype`.
    fn zeros(dtype: DType, len: usize) -> Option<Values> {
        Some(match dtype {
            DType::I8 => Values::I8(vec![0; len]),
            DType::U8 => Values::U8(vec![0; len]),
            DType::I16 => Values::I16(vec![0; len]),
            DType::I32 => Values::I32(vec![0; len]),
            DType::I64 => Values::I64(vec![0; len]),
            DType::F32 => Values::F32(vec![0.0; len]),
            DType::Bool => Values::Bool(vec![false; len]),
            DType::U32 | DType::U64 => return None,
        })
    }

    /// The little-endian bytes, as a constant tensor holds them.
    fn into_bytes(self) -> Vec<u8> {
        match self {
            Values::I8(v) => v.iter().map(|&x| x as u8).collect(),
            Values::U8(v) => v,
            Values::I16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Values::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Values::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Values::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Values::Bool(v) => v.iter().map(|&b| u8::from(b)).collect(),
        }
    }
}

/// Calls `$f(inputs..., output)` for a kernel generic over the element type, when the
/// inputs and the output share one type.
macro_rules! same_type {
    ($out:expr, [$($input:expr),*], |$($x:ident),* ; $o:ident| $body:expr) => {
        match ($($input,)* &mut $out) {
            ($(Values::I8($x),)* Values::I8($o)) => $body,
            ($(Values::U8($x),)* Values::U8($o)) => $body,
            ($(Values::I16($x),)* Values::I16($o)) => $body,
            ($(Values::I32($x),)* Values::I32($o)) => $body,
            ($(Values::I64($x),)* Values::I64($o)) => $body,
            ($(Values::F32($x),)* Values::F32($o)) => $body,
            ($(Values::Bool($x),)* Values::Bool($o)) => $body,
            _ => return None,
        }
    };
}

/// The float32 function a MapF32 or float activation applies to each element.
fn float_activation(f: FloatActivation) -> fn(f32) -> f32 {
    match f {
        FloatActivation::Relu => rt::relu_f32,
        FloatActivation::Relu6 => rt::relu6_f32,
        FloatActivation::HardSwish => rt::hard_swish_f32,
    }
}

/// Whether comparison `op` holds for `a`, `b`.
fn compare<T: PartialOrd>(op: Comparison, a: T, b: T) -> bool {
    match op {
        Comparison::Equal => a == b,
        Comparison::NotEqual => a != b,
        Comparison::Less => a < b,
        Comparison::LessEqual => a <= b,
        Comparison::Greater => a > b,
        Comparison::GreaterEqual => a >= b,
    }
}

/// The output bytes of `layer` computed from its (constant) inputs, or `None` when its
/// kernel has no compile-time evaluation here or an input is not a constant.
pub fn evaluate(graph: &Graph, layer: &Layer) -> Option<Vec<u8>> {
    let out_t = graph.tensors.get(layer.output)?;
    let ins: Vec<Values> = layer
        .inputs
        .iter()
        .map(|&t| Values::of(graph.tensors.get(t)?))
        .collect::<Option<_>>()?;
    let mut out = Values::zeros(out_t.dtype, out_t.elements())?;
    run(&layer.kernel, &ins, &mut out)?;
    Some(out.into_bytes())
}

/// Runs `kernel` over `ins` into `out` (`None`: not evaluated here).
fn run(kernel: &Kernel, ins: &[Values], out: &mut Values) -> Option<()> {
    use Values as V;
    let first = ins.first();
    let second = ins.get(1);
    match (kernel, first, second, &mut *out) {
        (Kernel::Reshape, Some(a), None, _) => same_type!(*out, [a], |x; o| rt::copy(x, o)),
        (Kernel::Gather(p), Some(a), None, _) => same_type!(*out, [a], |x; o| rt::gather(p, x, o)),
        (Kernel::Concatenation(parts), _, _, _) => {
            if parts.len() != ins.len() {
                return None;
            }
            for (part, input) in parts.iter().zip(ins) {
                same_type!(*out, [input], |x; o| rt::concat_part(part, x, o));
            }
        }
        (Kernel::Pad(p), Some(a), None, _) => match (a, out) {
            (V::I8(x), V::I8(o)) => rt::pad(p, p.value as i8, x, o),
            (V::I16(x), V::I16(o)) => rt::pad(p, p.value as i16, x, o),
            (V::F32(x), V::F32(o)) => rt::pad(p, f32::from_bits(p.value as u32), x, o),
            _ => return None,
        },
        (
            Kernel::TableGather {
                parts,
                tables,
                outside,
            },
            Some(a),
            None,
            _,
        ) => match (a, out) {
            (V::I8(x), V::I8(o)) => rt::table_gather(parts, tables, *outside as i8, x, o),
            (V::I16(x), V::I16(o)) => rt::table_gather(parts, tables, *outside as i16, x, o),
            (V::I32(x), V::I32(o)) => rt::table_gather(parts, tables, *outside, x, o),
            (V::F32(x), V::F32(o)) => rt::table_gather(parts, tables, *outside as f32, x, o),
            _ => return None,
        },
        (Kernel::GatherRows(p), Some(a), Some(V::I32(indices)), _) => match (a, out) {
            (V::I8(x), V::I8(o)) => rt::gather_rows(p, 0, x, indices, o),
            (V::I16(x), V::I16(o)) => rt::gather_rows(p, 0, x, indices, o),
            (V::I32(x), V::I32(o)) => rt::gather_rows(p, 0, x, indices, o),
            (V::F32(x), V::F32(o)) => rt::gather_rows(p, 0.0, x, indices, o),
            _ => return None,
        },
        (Kernel::Fill, Some(a), _, _) => same_type!(*out, [a], |x; o| {
            let &value = x.first()?;
            rt::fill_with(value, o)
        }),
        (Kernel::Zeros, _, _, _) => {}
        (Kernel::Cast { .. }, Some(a), None, _) => cast(a, out)?,
        (Kernel::QuantizeF32(p), Some(V::F32(x)), None, V::I8(o)) => rt::quantize_f32(p, x, o),
        (Kernel::QuantizeF32I16(p), Some(V::F32(x)), None, V::I16(o)) => {
            rt::quantize_f32_i16(p, x, o)
        }
        (Kernel::Requantize(p), Some(V::I8(x)), None, V::I8(o)) => rt::requantize_i8(p, x, o),
        (Kernel::RequantizeToI16(p), Some(V::I8(x)), None, V::I16(o)) => {
            rt::requantize_to_i16(p, x, o)
        }
        (Kernel::RequantizeToI16(p), Some(V::I16(x)), None, V::I16(o)) => {
            rt::requantize_to_i16(p, x, o)
        }
        (Kernel::RequantizeI16ToI8(p), Some(V::I16(x)), None, V::I8(o)) => {
            rt::requantize_i16_to_i8(p, x, o)
        }
        (Kernel::RequantizeU8ToI8(p), Some(V::U8(x)), None, V::I8(o)) => {
            rt::requantize_u8_to_i8(p, x, o)
        }
        (Kernel::RequantizeI8ToU8(p), Some(V::I8(x)), None, V::U8(o)) => {
            rt::requantize_i8_to_u8(p, x, o)
        }
        (Kernel::Dequantize(p), Some(V::I8(x)), None, V::F32(o)) => rt::dequantize_i8(p, x, o),
        (Kernel::DequantizeU8(p), Some(V::U8(x)), None, V::F32(o)) => rt::dequantize_u8(p, x, o),
        (Kernel::DequantizeI16(p), Some(V::I16(x)), None, V::F32(o)) => rt::dequantize_i16(p, x, o),
        (Kernel::Add(p) | Kernel::AddTabled(p, _), Some(V::I8(a)), Some(V::I8(b)), V::I8(o)) => {
            rt::add(p, a, b, o)
        }
        (Kernel::AddBroadcast(p, bc), Some(V::I8(a)), Some(V::I8(b)), V::I8(o)) => {
            rt::add_broadcast(p, bc, a, b, o)
        }
        (Kernel::Sub(p, bc), Some(V::I8(a)), Some(V::I8(b)), V::I8(o)) => {
            rt::sub(p, bc.as_ref(), a, b, o)
        }
        (Kernel::Mul(p, bc), Some(V::I8(a)), Some(V::I8(b)), V::I8(o)) => {
            rt::mul(p, bc.as_ref(), a, b, o)
        }
        (Kernel::SquaredDifference(p, bc), Some(V::I8(a)), Some(V::I8(b)), V::I8(o)) => {
            rt::squared_difference(p, bc.as_ref(), a, b, o)
        }
        (Kernel::Div(p, bc), Some(V::I8(a)), Some(V::I8(b)), V::I8(o)) => {
            rt::div_i8(p, bc.as_ref(), a, b, o)
        }
        (Kernel::Prelu(p, bc), Some(V::I8(a)), Some(V::I8(b)), V::I8(o)) => {
            rt::prelu(p, bc.as_ref(), a, b, o)
        }
        (
            Kernel::ArithF32 {
                op,
                clamp,
                broadcast,
            },
            Some(V::F32(a)),
            Some(V::F32(b)),
            V::F32(o),
        ) => {
            let f = match op {
                FloatArith::Add => rt::add_f32,
                FloatArith::Sub => rt::sub_f32,
                FloatArith::Mul => rt::mul_f32,
            };
            f(clamp, broadcast.as_ref(), a, b, o)
        }
        (Kernel::DivF32(clamp, bc), Some(V::F32(a)), Some(V::F32(b)), V::F32(o)) => {
            rt::div_f32(clamp, bc.as_ref(), a, b, o)
        }
        (Kernel::SquaredDifferenceF32(bc), Some(V::F32(a)), Some(V::F32(b)), V::F32(o)) => {
            rt::squared_difference_f32(bc.as_ref(), a, b, o)
        }
        (Kernel::PreluF32(bc), Some(V::F32(a)), Some(V::F32(b)), V::F32(o)) => {
            rt::prelu_f32(bc.as_ref(), a, b, o)
        }
        (
            Kernel::FloorDivMod { modulo, broadcast },
            Some(V::F32(a)),
            Some(V::F32(b)),
            V::F32(o),
        ) => {
            let f = if *modulo {
                rt::floor_mod_f32
            } else {
                rt::floor_div_f32
            };
            f(broadcast.as_ref(), a, b, o)
        }
        (
            Kernel::IntArith {
                op,
                clamp,
                broadcast,
            },
            Some(V::I32(a)),
            Some(V::I32(b)),
            V::I32(o),
        ) => {
            let f = match op {
                IntOp::Add => rt::add_i32,
                IntOp::Mul => rt::mul_i32,
                IntOp::Div => rt::div_i32,
            };
            f(clamp, broadcast.as_ref(), a, b, o)
        }
        (Kernel::MaxMin { maximum, broadcast }, Some(a), Some(b), _) => {
            let bc = broadcast.as_ref();
            same_type!(*out, [a, b], |x, y; o| if *maximum {
                rt::elementwise_max(bc, x, y, o)
            } else {
                rt::elementwise_min(bc, x, y, o)
            })
        }
        (Kernel::Lookup(table), Some(V::I8(x)), None, V::I8(o)) => {
            let bytes: [u8; 256] = std::array::from_fn(|k| table[k] as u8);
            rt::lookup(&bytes, x, o)
        }
        (Kernel::MapF32(f), Some(V::F32(x)), None, V::F32(o)) => {
            rt::map_f32(x, o, crate::layer::unary_math(*f).1)
        }
        (Kernel::ActivationF32(f), Some(V::F32(x)), None, V::F32(o)) => {
            rt::map_f32(x, o, float_activation(*f))
        }
        (Kernel::LeakyReluF32(p), Some(V::F32(x)), None, V::F32(o)) => rt::leaky_relu_f32(p, x, o),
        (Kernel::AbsF32, Some(V::F32(x)), None, V::F32(o)) => rt::abs_f32(x, o),
        (Kernel::NegF32, Some(V::F32(x)), None, V::F32(o)) => rt::neg_f32(x, o),
        (Kernel::Reduce { params, maximum }, Some(a), None, _) => match (a, out) {
            (V::I8(x), V::I8(o)) if *maximum => rt::reduce_max(params, i8::MIN, x, o),
            (V::I8(x), V::I8(o)) => rt::reduce_min(params, i8::MAX, x, o),
            (V::F32(x), V::F32(o)) if *maximum => rt::reduce_max(params, f32::MIN, x, o),
            (V::F32(x), V::F32(o)) => rt::reduce_min(params, f32::MAX, x, o),
            _ => return None,
        },
        (Kernel::SumF32(p), Some(V::F32(x)), None, V::F32(o)) => {
            rt::reduce_with(p, 0.0, x, o, |current, next| next + current)
        }
        (Kernel::Mean(p) | Kernel::Sum(p), Some(V::I8(x)), None, V::I8(o)) => rt::mean(p, x, o),
        (Kernel::MeanF32(p), Some(V::F32(x)), None, V::F32(o)) => rt::mean_f32(p, x, o),
        (Kernel::ArgMinMax { params, maximum }, Some(a), None, V::I32(o)) => match a {
            V::I8(x) if *maximum => rt::arg_max(params, x, o),
            V::I8(x) => rt::arg_min(params, x, o),
            V::F32(x) if *maximum => rt::arg_max(params, x, o),
            V::F32(x) => rt::arg_min(params, x, o),
            _ => return None,
        },
        (
            Kernel::Compare {
                op,
                params,
                broadcast,
            },
            Some(a),
            Some(b),
            V::Bool(o),
        ) => {
            let (op, bc) = (*op, broadcast.as_ref());
            match (a, b, params) {
                (V::I8(x), V::I8(y), Some(p)) => {
                    rt::compare_i8(p, bc, x, y, o, |a, b| compare(op, a, b))
                }
                (V::F32(x), V::F32(y), None) => rt::compare(bc, x, y, o, |a, b| compare(op, a, b)),
                (V::I32(x), V::I32(y), None) => rt::compare(bc, x, y, o, |a, b| compare(op, a, b)),
                (V::I8(x), V::I8(y), None) => rt::compare(bc, x, y, o, |a, b| compare(op, a, b)),
                (V::Bool(x), V::Bool(y), None) => {
                    rt::compare(bc, x, y, o, |a, b| compare(op, a, b))
                }
                _ => return None,
            }
        }
        (Kernel::Select(bc), Some(V::Bool(condition)), Some(x), _) => {
            let y = ins.get(2)?;
            same_type!(*out, [x, y], |a, b; o| rt::select(bc.as_ref(), condition, a, b, o))
        }
        (Kernel::Logical { and, broadcast }, Some(V::Bool(a)), Some(V::Bool(b)), V::Bool(o)) => {
            rt::logical(broadcast.as_ref(), *and, a, b, o)
        }
        (Kernel::LogicalNot, Some(V::Bool(x)), None, V::Bool(o)) => rt::logical_not(x, o),
        (Kernel::Cumsum(p), Some(V::F32(x)), None, V::F32(o)) => rt::cumsum_f32(p, x, o),
        (Kernel::Cumsum(p), Some(V::I8(x)), None, V::I8(o)) => rt::cumsum_i8(p, x, o),
        _ => return None,
    }
    Some(())
}

/// CAST between integer types, as C's `static_cast` (the generated code's `as`).
fn cast(input: &Values, out: &mut Values) -> Option<()> {
    /// Widens every element to i64 (all integer types fit).
    fn wide(v: &Values) -> Option<Vec<i64>> {
        Some(match v {
            Values::I8(x) => x.iter().map(|&e| e as i64).collect(),
            Values::U8(x) => x.iter().map(|&e| e as i64).collect(),
            Values::I16(x) => x.iter().map(|&e| e as i64).collect(),
            Values::I32(x) => x.iter().map(|&e| e as i64).collect(),
            Values::I64(x) => x.clone(),
            Values::Bool(x) => x.iter().map(|&e| e as i64).collect(),
            Values::F32(_) => return None,
        })
    }
    let from = wide(input)?;
    match out {
        Values::I8(o) => rt::cast(&from, o, |x| x as i8),
        Values::U8(o) => rt::cast(&from, o, |x| x as u8),
        Values::I16(o) => rt::cast(&from, o, |x| x as i16),
        Values::I32(o) => rt::cast(&from, o, |x| x as i32),
        Values::I64(o) => rt::cast(&from, o, |x| x),
        Values::Bool(o) => rt::cast(&from, o, |x| x != 0),
        Values::F32(_) => return None,
    }
    Some(())
}
