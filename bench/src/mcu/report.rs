//! The Markdown report of a run: kiln's table, the harness baselines, the kiln vs peer table,
//! the models left out, and the details of failures.

use std::fmt::Write as _;

use super::{Measure, Outcome, Report, Row};

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string().into_bytes();
    let groups: Vec<&str> = digits
        .rchunks(3)
        .rev()
        .map(|g| std::str::from_utf8(g).unwrap_or("?"))
        .collect();
    groups.join(",")
}

/// Per layer (`--layers`): kiln's instructions beside TFLM + CMSIS-NN's for the same operator
/// index (Cortex-M4 anchors, so on mps2-an386 rows), per op type, and per model.
pub fn layers_markdown(report: &Report) -> String {
    let mut s = String::new();
    let mut by_op: std::collections::BTreeMap<String, (u64, u64, u64)> = Default::default();
    for r in &report.rows {
        let Some(layers) = &r.layers else { continue };
        writeln!(
            s,
            "\n### {} on {} ({}), per layer\n",
            r.model, r.board, r.target
        )
        .unwrap();
        let layers = match layers {
            Ok(l) => l,
            Err(e) => {
                writeln!(s, "layered run failed: {}", first_line(e)).unwrap();
                continue;
            }
        };
        let anchor = if r.board == "mps2-an386" {
            report.anchors.m4_layers(&r.model)
        } else {
            Vec::new()
        };
        s.push_str(
            "| # | op | geometry (anchor) | MACs | kiln instr | kiln instr/MAC | CMSIS-NN instr | CMSIS-NN instr/MAC | kiln / CMSIS-NN |\n\
             |---:|---|---|---:|---:|---:|---:|---:|---:|\n",
        );
        let per_mac = |i: u64, macs: u64| {
            if macs > 0 {
                format!("{:.2}", i as f64 / macs as f64)
            } else {
                "—".to_string()
            }
        };
        let (mut kiln_total, mut anchor_total) = (0u64, 0u64);
        for l in layers {
            let a = anchor.iter().find(|a| a.index == l.index);
            kiln_total += l.instructions;
            let key = match a {
                Some(a) if a.op == "CONV_2D" && a.desc.starts_with("1x1") => "CONV_2D 1×1".into(),
                _ => l.op.to_string(),
            };
            if let Some(a) = a {
                anchor_total += a.instructions;
                let e = by_op.entry(key).or_default();
                e.0 += l.macs;
                e.1 += l.instructions;
                e.2 += a.instructions;
            }
            writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                l.index,
                l.op,
                a.map_or("", |a| a.desc.as_str()),
                thousands(l.macs),
                thousands(l.instructions),
                per_mac(l.instructions, l.macs),
                a.map_or("—".into(), |a| thousands(a.instructions)),
                a.map_or("—".into(), |a| per_mac(a.instructions, l.macs)),
                a.map_or("—".into(), |a| format!(
                    "{:.2}",
                    l.instructions as f64 / a.instructions.max(1) as f64
                )),
            )
            .unwrap();
        }
        if anchor_total > 0 {
            writeln!(
                s,
                "| | **all layers** | | {} | {} | | {} | | **{:.2}** |",
                thousands(r.macs.unwrap_or(0)),
                thousands(kiln_total),
                thousands(anchor_total),
                kiln_total as f64 / anchor_total as f64
            )
            .unwrap();
        }
    }
    if !by_op.is_empty() {
        s.push_str(
            "\n### Per op type, all models with anchors (Cortex-M4)\n\n\
             | op | MACs | kiln instr | kiln instr/MAC | CMSIS-NN instr | CMSIS-NN instr/MAC | kiln / CMSIS-NN |\n\
             |---|---:|---:|---:|---:|---:|---:|\n",
        );
        for (op, (macs, k, a)) in &by_op {
            let per = |i: u64| {
                if *macs > 0 {
                    format!("{:.2}", i as f64 / *macs as f64)
                } else {
                    "—".into()
                }
            };
            writeln!(
                s,
                "| {op} | {} | {} | {} | {} | {} | {:.2} |",
                thousands(*macs),
                thousands(*k),
                per(*k),
                thousands(*a),
                per(*a),
                *k as f64 / (*a).max(1) as f64
            )
            .unwrap();
        }
    }
    s
}

/// RAM per kiln run beside TFLM's: `Model` (arena, kernel scratch, output) plus the measured
/// stack of `predict`, against TFLM's arena plus the stack peak of `Invoke` (the anchors').
pub fn memory_markdown(report: &Report) -> String {
    let mut s = String::from(
        "\nRAM (kiln: `size_of::<Model>()` = arena + kernel scratch + output, plus the stack \
         `predict` used, measured below the call; TFLM: arena + the stack peak of `Invoke`, \
         from the anchors):\n\n\
         | model | board | arena | scratch + output | predict stack (STACK_BYTES) | kiln RAM | TFLM arena + stack | kiln / TFLM |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &report.rows {
        let (Outcome::Ok(m), Some(arena)) = (&r.outcome, r.arena) else {
            continue;
        };
        let (Some(stack), Some(model)) = (m.predict_stack, m.model_bytes) else {
            continue;
        };
        let total = model + stack;
        let bound =
            super::stack_bytes(&r.target).map_or("—".to_string(), |b| thousands(b as u64));
        let (tflm, ratio) = match report.anchors.ram(&r.model, &r.board) {
            Some((a, st)) => (
                format!("{} + {}", thousands(a), thousands(st)),
                format!("{:.2}", total as f64 / (a + st) as f64),
            ),
            None => ("—".to_string(), "—".to_string()),
        };
        writeln!(
            s,
            "| {} | {} | {} | {} | {} ({bound}) | {} | {tflm} | {ratio} |",
            r.model,
            r.board,
            thousands(arena as u64),
            thousands(model.saturating_sub(arena as u64)),
            thousands(stack),
            thousands(total),
        )
        .unwrap();
    }
    s
}

/// The report as Markdown: the table, the harness baselines, and details of failures.
pub fn markdown(report: &Report) -> String {
    let mut s = String::new();
    s.push_str(
        "| model | board (kiln target) | MACs | instructions | instr/MAC | TFLM instructions (kernels) | kiln / TFLM | flash bytes | of which model code + data | RAM bytes | = static + stack peak | arena bytes | golden |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let opt = |v: Option<u64>| v.map_or("—".to_string(), thousands);
    for r in &report.rows {
        let measure = match &r.outcome {
            Outcome::Ok(m) => Some(m),
            Outcome::Failed { measure, .. } => measure.as_ref(),
            Outcome::NoFit(_) => None,
        };
        let result = match &r.outcome {
            Outcome::Ok(_) => "ok".to_string(),
            Outcome::NoFit(e) => format!("does not fit: {e}"),
            Outcome::Failed { summary, .. } => format!("**FAILED**: {summary}"),
        };
        let per_mac = match (measure, r.macs) {
            (Some(m), Some(macs)) if macs > 0 => {
                format!("{:.2}", m.instructions as f64 / macs as f64)
            }
            _ => "—".to_string(),
        };
        let anchor = report.anchors.model(&r.model, &r.board);
        let (tflm, ratio) = match (anchor, measure) {
            (Some((a, kernels)), Some(m)) => (
                format!("{} ({kernels})", thousands(a)),
                format!("{:.2}", m.instructions as f64 / a as f64),
            ),
            (Some((a, kernels)), None) => (format!("{} ({kernels})", thousands(a)), "—".into()),
            _ => ("—".to_string(), "—".to_string()),
        };
        writeln!(
            s,
            "| {} | {} ({}) | {} | {} | {} | {tflm} | {ratio} | {} | {} | {} | {} | {} | {} |",
            r.model,
            r.board,
            r.target,
            opt(r.macs),
            opt(measure.map(|m| m.instructions)),
            per_mac,
            opt(measure.map(|m| m.flash)),
            measure
                .and_then(|m| m.model_symbols)
                .map_or("—".to_string(), |(c, d)| format!(
                    "{} + {}",
                    thousands(c),
                    thousands(d)
                )),
            opt(measure.map(|m| m.ram_static + m.stack_peak)),
            measure.map_or("—".to_string(), |m| format!(
                "{} + {}",
                thousands(m.ram_static),
                thousands(m.stack_peak)
            )),
            opt(r.arena.map(|a| a as u64)),
            result
        )
        .unwrap();
    }
    s.push_str(&memory_markdown(report));
    if !report.baselines.is_empty() {
        s.push_str(
            "\nHarness baseline: the template's own firmware (cortex-m-rt/riscv-rt, semihosting, \
             core::fmt, stack painting, and its 64x64 int8 mat-vec with 4,096 bytes of weights):\n\n\
             | board | flash bytes | RAM static bytes | stack peak bytes |\n|---|---:|---:|---:|\n",
        );
        for b in &report.baselines {
            match &b.result {
                Ok(m) => writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    b.board,
                    thousands(m.flash),
                    thousands(m.ram_static),
                    thousands(m.stack_peak)
                ),
                Err(e) => writeln!(s, "| {} | failed: {} | | |", b.board, first_line(e)),
            }
            .unwrap();
        }
    }
    if !report.kernel_checks.is_empty() {
        s.push_str(
            "\nKernel checks on the target (`--kernels`: random convolutions through the runtime's \
             fast kernels, compared with TFLite's reference loops on the board):\n\n\
             | board | kernels | result | instructions |\n|---|---|---|---:|\n",
        );
        for k in &report.kernel_checks {
            match &k.result {
                Ok((n, m)) => writeln!(
                    s,
                    "| {} | {} | ok, {} comparisons | {} |",
                    k.board,
                    k.kernels,
                    thousands(*n),
                    thousands(m.instructions)
                ),
                Err(e) => writeln!(
                    s,
                    "| {} | {} | FAILED: {} | |",
                    k.board,
                    k.kernels,
                    first_line(e)
                ),
            }
            .unwrap();
        }
    }
    if !report.peers.is_empty() {
        s.push_str(
            "\n### kiln vs microflow 0.1.3 (same template, same QEMU board, same golden input)\n\n\
             | model | board | kiln instructions | microflow instructions | microflow/kiln | \
             kiln flash bytes | microflow flash bytes | kiln RAM bytes | microflow RAM bytes | microflow golden |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
        );
        for p in &report.peers {
            let k = p.kiln.as_ref();
            let (mf, result) = match &p.result {
                Ok((m, g)) => (Some(m), g.clone()),
                Err((summary, _)) => (None, summary.clone()),
            };
            let ratio = match (k, mf) {
                (Some(k), Some(m)) if k.instructions > 0 => {
                    format!("{:.2}x", m.instructions as f64 / k.instructions as f64)
                }
                _ => "—".to_string(),
            };
            let opt = |m: Option<&Measure>, f: fn(&Measure) -> u64| {
                m.map_or("—".to_string(), |m| thousands(f(m)))
            };
            writeln!(
                s,
                "| {} | {} | {} | {} | {ratio} | {} | {} | {} | {} | {result} |",
                p.model,
                p.board,
                opt(k, |m| m.instructions),
                opt(mf, |m| m.instructions),
                opt(k, |m| m.flash),
                opt(mf, |m| m.flash),
                opt(k, |m| m.ram_static + m.stack_peak),
                opt(mf, |m| m.ram_static + m.stack_peak),
            )
            .unwrap();
        }
        for p in &report.peers {
            if let Err((summary, details)) = &p.result {
                if !details.is_empty() {
                    writeln!(
                        s,
                        "\n### microflow: {} on {}: {summary}\n\n```\n{}\n```",
                        p.model,
                        p.board,
                        details.trim_end()
                    )
                    .unwrap();
                }
            }
        }
    }
    if !report.left_out.is_empty() {
        writeln!(s, "\nLeft out: {}", report.left_out.join(", ")).unwrap();
    }
    let failures: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .collect();
    for r in failures {
        if let Outcome::Failed {
            summary, details, ..
        } = &r.outcome
        {
            if !details.is_empty() {
                writeln!(
                    s,
                    "\n### {} on {} ({}): {summary}\n\n```\n{}\n```",
                    r.model,
                    r.board,
                    r.target,
                    details.trim_end()
                )
                .unwrap();
            }
        }
    }
    for b in &report.baselines {
        if let Err(e) = &b.result {
            writeln!(s, "\n### template baseline on {}\n\n```\n{e}\n```", b.board).unwrap();
        }
    }
    s
}

pub fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_501_632), "12,501,632");
    }
}
