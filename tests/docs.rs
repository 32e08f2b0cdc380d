//! README.md's list of supported ops is generated from the front-end's op table (the table
//! that dispatches the parsers and that errors print): this test fails when the list is
//! stale, and `KILN_UPDATE_README=1` rewrites it.

use kiln_e2e::repo_root;

const BEGIN: &str = "<!-- ops:begin -->\n";
const END: &str = "<!-- ops:end -->";

#[test]
fn readme_lists_the_ops_of_the_op_table() {
    let path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let mut ops = kiln_codegen::front::tflite::SUPPORTED_OPS.to_vec();
    ops.sort_unstable();
    let want = format!("{}\n", ops.join(", "));
    let start = readme
        .find(BEGIN)
        .expect("README.md has no ops:begin marker")
        + BEGIN.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README.md has no ops:end marker");
    if readme[start..end] == want {
        return;
    }
    if std::env::var("KILN_UPDATE_README").as_deref() == Ok("1") {
        let updated = format!("{}{want}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "README.md's supported-op list is stale; run KILN_UPDATE_README=1 cargo test -p kiln-e2e --test docs\nREADME: {}\ntable:  {want}",
        &readme[start..end]
    );
}
