//! ONNX constants (initializers, `Constant` nodes' values): `TensorProto` → element type,
//! dimensions and little-endian bytes, every size checked against the data present.

use super::proto::{data_type, TensorProto};
use crate::ir::DType;

/// The largest constant (in bytes) kiln accepts.
pub const MAX_CONSTANT_BYTES: usize = 1 << 31;

/// A decoded constant tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Constant {
    /// Element type.
    pub dtype: DType,
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Little-endian element bytes.
    pub data: Vec<u8>,
}

impl Constant {
    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.dims.iter().product()
    }

    /// The elements widened to i64 (empty for float32).
    pub fn ints(&self) -> Vec<i64> {
        self.as_ir().data_ints()
    }

    /// The elements of a float32 constant (empty for other types).
    pub fn floats(&self) -> Vec<f32> {
        if self.dtype != DType::F32 {
            return Vec::new();
        }
        self.as_ir().data_f32()
    }

    /// This constant as an IR tensor (no quantization).
    pub fn as_ir(&self) -> crate::ir::Tensor {
        crate::ir::Tensor {
            name: String::new(),
            shape: self.dims.clone(),
            dtype: self.dtype,
            quant: None,
            data: Some(self.data.clone()),
        }
    }
}

/// The IR element type of an ONNX `TensorProto.DataType`, when kiln has one.
pub fn dtype_of(code: i32) -> Option<DType> {
    Some(match code {
        data_type::FLOAT => DType::F32,
        data_type::UINT8 => DType::U8,
        data_type::INT8 => DType::I8,
        data_type::INT16 => DType::I16,
        data_type::INT32 => DType::I32,
        data_type::INT64 => DType::I64,
        data_type::BOOL => DType::Bool,
        _ => return None,
    })
}

/// Checked dimensions: each non-negative, the product within [`MAX_CONSTANT_BYTES`] elements
/// of `size` bytes.
pub fn checked_dims(dims: &[i64], size: usize) -> Result<Vec<usize>, String> {
    let mut total = size;
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = usize::try_from(d).map_err(|_| format!("dimension {d} is negative"))?;
        total = total
            .checked_mul(d)
            .filter(|&t| t <= MAX_CONSTANT_BYTES)
            .ok_or_else(|| format!("dimensions {dims:?} exceed {MAX_CONSTANT_BYTES} bytes"))?;
        out.push(d);
    }
    Ok(out)
}

/// Decodes a `TensorProto`'s type, dimensions and data (`raw_data`, or the typed field of
/// its type).
pub fn decode(t: &TensorProto) -> Result<Constant, String> {
    if t.data_location == Some(1) {
        return Err("its data is in an external file, which kiln does not read".into());
    }
    let code = t.data_type.unwrap_or(0);
    let dtype = dtype_of(code).ok_or_else(|| format!("data type {code} is not supported"))?;
    let dims = checked_dims(&t.dims, dtype.size())?;
    let elements: usize = dims.iter().product();
    let bytes = elements * dtype.size();
    let data = if let Some(raw) = &t.raw_data {
        raw.clone()
    } else {
        match dtype {
            DType::F32 => t.float_data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            DType::I64 => t.int64_data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            // int32_data holds int8, uint8, int16, int32 and bool elements, one per entry.
            _ => t
                .int32_data
                .iter()
                .flat_map(|v| v.to_le_bytes().into_iter().take(dtype.size()))
                .collect(),
        }
    };
    if data.len() != bytes {
        return Err(format!(
            "{} bytes of data for dimensions {dims:?} of {dtype} ({bytes} bytes)",
            data.len()
        ));
    }
    Ok(Constant { dtype, dims, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_and_raw_data_decode_alike() {
        let typed = TensorProto {
            dims: vec![3],
            data_type: Some(data_type::INT8),
            int32_data: vec![-1, 2, -128],
            ..Default::default()
        };
        let raw = TensorProto {
            dims: vec![3],
            data_type: Some(data_type::INT8),
            raw_data: Some(vec![0xff, 2, 0x80]),
            ..Default::default()
        };
        assert_eq!(decode(&typed), decode(&raw));
        assert_eq!(decode(&typed).unwrap().ints(), [-1, 2, -128]);
    }

    #[test]
    fn sizes_must_match_the_data() {
        let t = TensorProto {
            dims: vec![2, 2],
            data_type: Some(data_type::FLOAT),
            float_data: vec![1.0, 2.0, 3.0],
            ..Default::default()
        };
        assert!(decode(&t).unwrap_err().contains("12 bytes of data"));
        let huge = TensorProto {
            dims: vec![1 << 40, 1 << 40],
            data_type: Some(data_type::FLOAT),
            ..Default::default()
        };
        assert!(decode(&huge).unwrap_err().contains("exceed"));
        let negative = TensorProto {
            dims: vec![-1],
            data_type: Some(data_type::FLOAT),
            ..Default::default()
        };
        assert!(decode(&negative).unwrap_err().contains("negative"));
    }
}
