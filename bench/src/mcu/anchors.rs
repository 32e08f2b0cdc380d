//! The figures kiln is measured against: TFLM + CMSIS-NN on the same QEMU boards
//! (`<shared>/anchors/`): per model on the Cortex-M4 (mps2-an386, with per-layer counts), and
//! per model on the Cortex-M0 (microbit) and RV32IMC (riscv32-virt).

use std::path::Path;

use serde_json::Value;

/// One anchor layer: operator index, op, geometry, MACs, instructions.
#[derive(Clone, Debug)]
pub struct AnchorLayer {
    /// Operator index in the model.
    pub index: usize,
    /// Operator name.
    pub op: String,
    /// Geometry, e.g. `3x3 s1 m1 in[25, 5, 64]->out[25, 5, 64]`.
    pub desc: String,
    /// Instructions TFLM + CMSIS-NN executed in this layer.
    pub instructions: u64,
}

/// The anchor files, parsed (missing files give no figures).
#[derive(Default)]
pub struct Anchors {
    m4: Option<Value>,
    m0_rv32: Option<Value>,
}

impl Anchors {
    /// Reads `<shared>/anchors/*.json`.
    pub fn load(shared: &Path) -> Anchors {
        let read = |name: &str| std::fs::read_to_string(shared.join("anchors").join(name)).ok();
        Anchors::parse(
            read("tflm-m4.json").as_deref(),
            read("tflm-m0-rv32.json").as_deref(),
        )
    }

    /// From the two files' text (a missing or malformed one gives no figures).
    pub fn parse(m4: Option<&str>, m0_rv32: Option<&str>) -> Anchors {
        let json = |t: Option<&str>| t.and_then(|t| serde_json::from_str(t).ok());
        Anchors {
            m4: json(m4),
            m0_rv32: json(m0_rv32),
        }
    }

    /// TFLM's instructions for one inference of `model` on `board`: with CMSIS-NN where the
    /// anchors have it (M4, M0), else the reference kernels (RV32IMC, where TFLM has no
    /// optimized kernels). Returns (instructions, which kernels).
    pub fn model(&self, model: &str, board: &str) -> Option<(u64, &'static str)> {
        match board {
            "mps2-an386" => {
                let m = self.m4_cmsis(model)?;
                Some((m.get("instr")?.as_u64()?, "CMSIS-NN"))
            }
            "microbit" | "riscv32-virt" => {
                let (run, which) = self.m0_rv32_run(model, board)?;
                Some((run.get("instructions_invoke")?.as_u64()?, which))
            }
            _ => None,
        }
    }

    /// TFLM's RAM for `model` on `board`, from the same run as [`Anchors::model`]: (arena
    /// bytes used, stack peak of Invoke in bytes).
    pub fn ram(&self, model: &str, board: &str) -> Option<(u64, u64)> {
        match board {
            "mps2-an386" => {
                let m = self.m4_cmsis(model)?;
                Some((m.get("arena")?.as_u64()?, m.get("stack")?.as_u64()?))
            }
            "microbit" | "riscv32-virt" => {
                let (run, _) = self.m0_rv32_run(model, board)?;
                Some((
                    run.get("arena_used_bytes")?.as_u64()?,
                    run.get("stack_peak_invoke_bytes")?.as_u64()?,
                ))
            }
            _ => None,
        }
    }

    /// The Cortex-M4 TFLM + CMSIS-NN record of `model`.
    fn m4_cmsis(&self, model: &str) -> Option<&Value> {
        self.m4.as_ref()?.get("models")?.get(model)?.get("cmsis_nn")
    }

    /// The M0 / RV32IMC anchor run of `model` on `board` (`microbit`: Cortex-M0,
    /// `riscv32-virt`: RV32IMC): with CMSIS-NN where there is one, else the reference kernels.
    fn m0_rv32_run(&self, model: &str, board: &str) -> Option<(&Value, &'static str)> {
        let core = if board == "microbit" {
            "cortex-m0"
        } else {
            "rv32imc"
        };
        let runs = self.m0_rv32.as_ref()?.get("runs")?.as_array()?;
        let find = |kernels: &str| {
            runs.iter().find(|r| {
                r.get("model").and_then(Value::as_str) == Some(model)
                    && r.get("kernels").and_then(Value::as_str) == Some(kernels)
                    && r.get("core")
                        .and_then(Value::as_str)
                        .is_some_and(|c| c.to_ascii_lowercase().starts_with(core))
            })
        };
        match find("cmsis-nn") {
            Some(r) => Some((r, "CMSIS-NN")),
            None => Some((find("reference")?, "reference")),
        }
    }

    /// TFLM + CMSIS-NN's per-layer counts of `model` on the Cortex-M4.
    pub fn m4_layers(&self, model: &str) -> Vec<AnchorLayer> {
        let layers = self
            .m4_cmsis(model)
            .and_then(|m| m.get("layers"))
            .and_then(Value::as_array);
        layers
            .into_iter()
            .flatten()
            .filter_map(|l| {
                Some(AnchorLayer {
                    index: l.get("index")?.as_u64()? as usize,
                    op: l.get("op")?.as_str()?.to_string(),
                    desc: l.get("desc")?.as_str()?.to_string(),
                    instructions: l.get("instr")?.as_u64()?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M4: &str = r#"{"models": {"kws": {"cmsis_nn": {"instr": 1000, "layers": [
        {"index": 0, "op": "CONV_2D", "desc": "1x1", "macs": 10, "instr": 600}]}}}}"#;
    const M0: &str = r#"{"runs": [
        {"core": "cortex-m0 (thumbv6m)", "kernels": "reference", "model": "kws", "instructions_invoke": 9000},
        {"core": "cortex-m0 (thumbv6m)", "kernels": "cmsis-nn", "model": "kws", "instructions_invoke": 5000},
        {"core": "rv32imc", "kernels": "reference", "model": "kws", "instructions_invoke": 7000}]}"#;

    #[test]
    fn anchors_pick_cmsis_nn_where_there_is_one() {
        let a = Anchors::parse(Some(M4), Some(M0));
        assert_eq!(a.model("kws", "mps2-an386"), Some((1000, "CMSIS-NN")));
        assert_eq!(a.model("kws", "microbit"), Some((5000, "CMSIS-NN")));
        assert_eq!(a.model("kws", "riscv32-virt"), Some((7000, "reference")));
        assert_eq!(a.model("kws", "mps2-an500"), None);
        assert_eq!(a.model("vww", "mps2-an386"), None);
        let layers = a.m4_layers("kws");
        assert_eq!((layers.len(), layers[0].instructions), (1, 600));
    }
}
