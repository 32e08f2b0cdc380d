//! Patch-based execution (MCUNetV2's term): the first convolutions of an image model run band
//! by band, so the largest activation never exists whole.
//!
//! A *stage* is a chain of int8 convolutions (CONV_2D, DEPTHWISE_CONV_2D) at the start of the
//! model, each reading only its predecessor's output. Its last output is cut into `B`
//! horizontal bands of rows. For each band, working backwards through the stage, each layer's
//! input rows are the rows its band of output rows reads (the receptive field, clamped to the
//! tensor); the layer becomes a smaller layer over just those rows (`in_h`, `out_h` and
//! `pad_top` changed, everything else shared), writing a band-sized tensor. The stage input's
//! rows are copied out first (`SLICE_ROWS`, a contiguous copy, since NHWC rows are contiguous)
//! unless a band reads all of them, and the bands of the last output are copied into the full
//! tensor at the end (`JOIN_ROWS`, a CONCATENATION along the rows). Adjacent bands share rows
//! at their edges, which each band recomputes: that is the instruction cost, reported as
//! [`Banding::extra_macs`].
//!
//! Band layers keep their operator's index (the layer table and the observer report it with
//! [`crate::layer::Layer::band`]) and its weights, which the emitter stores once.
//! [`choose`] tries every stage length and band count and keeps the plan with the smallest
//! arena whose extra MACs stay within the target's budget.

use crate::ir::{Graph, Tensor, TensorId};
use crate::layer::{Kernel, Layer};
use crate::plan::{plan, Plan};
use crate::runtime as rt;

/// Band counts [`choose`] tries.
const BAND_COUNTS: [usize; 8] = [2, 3, 4, 6, 8, 12, 16, 24];

/// The most layers a stage holds (patch-based execution pays off in the first few layers of
/// an image model, and each candidate is planned: this bounds the search on hostile models).
const MAX_STAGE_LAYERS: usize = 8;

/// A stage run band by band: operators `first..=last` of the model, in `bands` bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Banding {
    /// Operator index (in the model) of the stage's first layer.
    pub first: usize,
    /// Operator index of its last layer.
    pub last: usize,
    /// Number of bands.
    pub bands: usize,
    /// Multiply-accumulates the bands recompute (shared edge rows), per inference.
    pub extra_macs: u64,
}

/// The convolution parameters of a layer a stage can hold (int8 CONV_2D or DEPTHWISE_CONV_2D
/// over one 4-D input of batch 1).
fn conv_params(layer: &Layer) -> Option<&rt::ConvFast> {
    match &layer.kernel {
        Kernel::Conv2d(p, _) | Kernel::DepthwiseConv2d(p, _)
            if p.shape.batches == 1 && layer.inputs.len() == 1 && layer.band.is_none() =>
        {
            Some(p)
        }
        _ => None,
    }
}

/// The last position of the longest stage starting at layer 0: a chain of convolutions where
/// each reads only the previous one's output, which nothing else reads and which is not a
/// graph output. `None` when layer 0 is not a convolution.
fn chain_end(graph: &Graph, layers: &[Layer]) -> Option<usize> {
    conv_params(layers.first()?)?;
    let mut end = 0;
    while end + 1 < layers.len().min(MAX_STAGE_LAYERS) {
        let t = layers[end].output;
        let next = &layers[end + 1];
        let readers = layers.iter().filter(|l| l.inputs.contains(&t)).count();
        if conv_params(next).is_none()
            || next.inputs != [t]
            || readers != 1
            || graph.outputs.contains(&t)
        {
            break;
        }
        end += 1;
    }
    Some(end)
}

/// Rows `[lo, hi)` of a layer's input that its output rows `[a, b)` read, and the padding rows
/// above the first of them in the band's own geometry.
fn input_rows(s: &rt::ConvShape, a: usize, b: usize) -> (usize, usize, usize) {
    let span = (s.k_h - 1) * s.dilation_h + 1;
    let start = (a * s.stride_h) as isize - s.pad_top as isize;
    let end = ((b - 1) * s.stride_h) as isize - s.pad_top as isize + span as isize;
    let lo = start.max(0) as usize;
    let hi = (end.max(0) as usize).min(s.in_h);
    (lo, hi.max(lo), (lo as isize - start) as usize)
}

/// A new activation tensor like `t`, with `rows` rows (NHWC, batch 1).
fn band_tensor(graph: &mut Graph, t: TensorId, rows: usize, band: usize) -> TensorId {
    let like = &graph.tensors[t];
    let mut shape = like.shape.clone();
    shape[1] = rows;
    graph.tensors.push(Tensor {
        name: format!("{} (band {band})", like.name),
        shape,
        dtype: like.dtype,
        quant: like.quant.clone(),
        data: None,
    });
    graph.tensors.len() - 1
}

/// `layer` restricted to output rows `[a, b)`, reading `input` (rows `[lo, hi)` of its input)
/// and writing `output`.
fn band_layer(
    layer: &Layer,
    (a, b): (usize, usize),
    (lo, hi, pad_top): (usize, usize, usize),
    input: TensorId,
    output: TensorId,
    band: usize,
) -> Layer {
    let mut banded = layer.clone();
    if let Kernel::Conv2d(p, _) | Kernel::DepthwiseConv2d(p, _) = &mut banded.kernel {
        let out_h = p.shape.out_h.max(1) as u64;
        p.shape.in_h = hi - lo;
        p.shape.out_h = b - a;
        p.shape.pad_top = pad_top;
        banded.macs = layer.macs.saturating_mul((b - a) as u64) / out_h;
    }
    banded.inputs = vec![input];
    banded.output = output;
    banded.band = Some(band);
    banded
}

/// Rewrites `layers[first..=last]` to run in `bands` bands (adding the band tensors to
/// `graph`); returns the new layer list and the extra MACs. `None` if the stage cannot be cut
/// that way (fewer output rows than bands).
pub fn rewrite(
    graph: &mut Graph,
    layers: &[Layer],
    first: usize,
    last: usize,
    bands: usize,
) -> Option<(Vec<Layer>, u64)> {
    let stage = &layers[first..=last];
    let shapes: Vec<rt::ConvShape> = stage
        .iter()
        .map(|l| conv_params(l).map(|p| p.shape))
        .collect::<Option<_>>()?;
    let rows = shapes.last()?.out_h;
    if bands < 2 || bands > rows {
        return None;
    }
    let stage_input = stage[0].inputs[0];
    let stage_output = stage[stage.len() - 1].output;
    let mut out = layers[..first].to_vec();
    let mut band_outputs = Vec::with_capacity(bands);
    let mut parts = Vec::with_capacity(bands);
    let row_elems = |t: TensorId, g: &Graph| g.tensors[t].shape[2..].iter().product::<usize>();
    let original_macs: u64 = stage.iter().map(|l| l.macs).sum();
    let mut banded_macs = 0;
    for band in 0..bands {
        let (a, b) = (band * rows / bands, (band + 1) * rows / bands);
        // Backwards: each layer's output rows and the input rows they read.
        let mut ranges = vec![((0, 0), (0, 0, 0)); stage.len()];
        let mut want = (a, b);
        for (k, s) in shapes.iter().enumerate().rev() {
            let reads = input_rows(s, want.0, want.1);
            ranges[k] = (want, reads);
            want = (reads.0, reads.1);
        }
        // Forwards: the band's input, then each layer over its rows.
        let (lo, hi, _) = ranges[0].1;
        let mut input = stage_input;
        if (lo, hi) != (0, shapes[0].in_h) {
            let sliced = band_tensor(graph, stage_input, hi - lo, band);
            let start = lo * row_elems(stage_input, graph);
            out.push(Layer {
                index: stage[0].index,
                op_name: "SLICE_ROWS",
                kernel: Kernel::SliceRows { start },
                inputs: vec![stage_input],
                output: sliced,
                macs: 0,
                band: Some(band),
                part: None,
                state: Vec::new(),
            });
            input = sliced;
        }
        for (k, layer) in stage.iter().enumerate() {
            let (written, reads) = ranges[k];
            let output = band_tensor(graph, layer.output, written.1 - written.0, band);
            let banded = band_layer(layer, written, reads, input, output, band);
            banded_macs += banded.macs;
            out.push(banded);
            input = output;
        }
        let per_row = row_elems(stage_output, graph);
        parts.push(rt::ConcatPart {
            outer: 1,
            copy: (b - a) * per_row,
            out_stride: rows * per_row,
            offset: a * per_row,
        });
        band_outputs.push(input);
    }
    out.push(Layer {
        index: stage[stage.len() - 1].index,
        op_name: "JOIN_ROWS",
        kernel: Kernel::Concatenation(parts),
        inputs: band_outputs,
        output: stage_output,
        macs: 0,
        band: None,
        part: None,
        state: Vec::new(),
    });
    out.extend_from_slice(&layers[last + 1..]);
    Some((out, banded_macs.saturating_sub(original_macs)))
}

/// The banding of the model's first layers with the smallest arena, if one is smaller than
/// `current` (the arena without banding) and recomputes at most `max_extra_per_mille` ‰ of
/// the model's MACs; with the graph, layers and plan it gives.
pub fn choose(
    graph: &Graph,
    layers: &[Layer],
    current: &Plan,
    max_extra_per_mille: u64,
) -> Option<(Banding, Graph, Vec<Layer>, Plan)> {
    let end = chain_end(graph, layers)?;
    let total_macs: u64 = layers.iter().map(|l| l.macs).sum::<u64>().max(1);
    let mut best: Option<(Banding, Graph, Vec<Layer>, Plan)> = None;
    for last in 0..=end {
        for bands in BAND_COUNTS {
            let mut g = graph.clone();
            let Some((banded, extra_macs)) = rewrite(&mut g, layers, 0, last, bands) else {
                continue;
            };
            if extra_macs * 1000 > max_extra_per_mille * total_macs {
                continue;
            }
            let Ok(p) = plan(&g, &banded) else {
                continue;
            };
            let better = match &best {
                None => p.arena_bytes < current.arena_bytes,
                Some((b, _, _, bp)) => (p.arena_bytes, extra_macs) < (bp.arena_bytes, b.extra_macs),
            };
            if better {
                let banding = Banding {
                    first: layers[0].index,
                    last: layers[last].index,
                    bands,
                    extra_macs,
                };
                best = Some((banding, g, banded, p));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_fixtures::writer::serialize;

    fn shape(k: usize, stride: usize, pad: usize, dilation: usize, in_h: usize) -> rt::ConvShape {
        rt::ConvShape {
            batches: 1,
            in_h,
            in_w: 4,
            in_c: 1,
            out_h: 0,
            out_w: 4,
            out_c: 1,
            k_h: k,
            k_w: 1,
            k_c: 1,
            stride_h: stride,
            stride_w: 1,
            dilation_h: dilation,
            dilation_w: 1,
            pad_top: pad,
            pad_left: 0,
            depth_multiplier: 1,
        }
    }

    /// The `image_stem` fixture read, prepared and planned.
    fn image_stem() -> (Graph, Vec<Layer>, Plan) {
        let fixture = kiln_fixtures::models::find("image_stem").expect("fixture image_stem");
        let graph = crate::front::tflite::read(&serialize(fixture.graph().model())).unwrap();
        let layers = crate::prepare::prepare(&graph).unwrap();
        let plan = plan(&graph, &layers).unwrap();
        (graph, layers, plan)
    }

    #[test]
    fn input_rows_are_the_receptive_field_clamped_to_the_tensor() {
        // 3×3 stride 2, one row of padding above: output rows 0..8 read rows -1..16.
        assert_eq!(input_rows(&shape(3, 2, 1, 1, 96), 0, 8), (0, 16, 1));
        // A middle band reads whole rows, no padding.
        assert_eq!(input_rows(&shape(3, 2, 1, 1, 96), 8, 16), (15, 32, 0));
        // The last band stops at the tensor's last row (the padding below is implicit).
        assert_eq!(input_rows(&shape(3, 2, 1, 1, 96), 40, 48), (79, 96, 0));
        // Dilation 2 widens the window to 5 rows; VALID (no padding).
        assert_eq!(input_rows(&shape(3, 1, 0, 2, 20), 3, 6), (3, 10, 0));
    }

    #[test]
    fn bands_cover_the_output_once_and_count_their_extra_macs() {
        let (graph0, layers0, _) = image_stem();
        let end = chain_end(&graph0, &layers0).expect("a stage");
        assert_eq!(end, 4, "conv, dw, 1x1, dw, 1x1 chain");
        for bands in [2, 3, 5] {
            let mut graph = graph0.clone();
            let (layers, extra) = rewrite(&mut graph, &layers0, 0, 3, bands).unwrap();
            let join = layers.iter().find(|l| l.op_name == "JOIN_ROWS").unwrap();
            assert_eq!(join.inputs.len(), bands);
            assert_eq!(join.output, layers0[3].output);
            let Kernel::Concatenation(parts) = &join.kernel else {
                panic!("JOIN_ROWS is a concatenation");
            };
            let mut next = 0;
            for part in parts {
                assert_eq!(part.offset, next, "bands are contiguous, in order");
                next += part.copy;
            }
            assert_eq!(next, graph.tensors[join.output].elements());
            let before: u64 = layers0.iter().map(|l| l.macs).sum();
            let after: u64 = layers.iter().map(|l| l.macs).sum();
            assert_eq!(after, before + extra);
            assert!(extra > 0, "3×3 windows overlap between bands");
            // Layers after the stage are untouched.
            assert_eq!(layers.last(), layers0.last());
        }
        // More bands than output rows: no banding.
        let rows = graph0.tensors[layers0[3].output].shape[1];
        let mut graph = graph0.clone();
        assert!(rewrite(&mut graph, &layers0, 0, 3, rows + 1).is_none());
    }

    #[test]
    fn choose_keeps_the_smallest_arena_within_the_budget() {
        let (graph, layers, whole) = image_stem();
        let total: u64 = layers.iter().map(|l| l.macs).sum();
        assert!(choose(&graph, &layers, &whole, 0).is_none());
        let (banding, _, _, plan) = choose(&graph, &layers, &whole, 1000).expect("banded");
        assert!(plan.arena_bytes < whole.arena_bytes);
        assert!(banding.extra_macs * 1000 <= 1000 * total);
        let tight = choose(&graph, &layers, &whole, 100);
        if let Some((b, _, _, p)) = tight {
            assert!(b.extra_macs * 1000 <= 100 * total);
            assert!(p.arena_bytes >= plan.arena_bytes);
        }
    }
}
