//! Builds the default policy (`plugin/`) into a wasm component and embeds it, so that
//! `cargo run` and `cargo test` work on a fresh clone with no separate build step. Also
//! embeds the contract conformance vectors (`tests/vectors/contract/`, and
//! `contract-0.2/` for 0.2.0 policies), which every policy must pass at install.
use std::path::Path;

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    vesting_wasm_build::rerun_if_changed(&workspace, "plugin");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    vesting_wasm_build::build_policy(&workspace, "vesting-policy-default", Path::new(&out));
    let vectors = workspace.join("tests/vectors");
    embed_contract_vectors(
        &[vectors.join("contract"), vectors.join("contract-0.2")],
        Path::new(&out),
    );
}

fn embed_contract_vectors(dirs: &[std::path::PathBuf], out: &Path) {
    let mut files = Vec::new();
    for dir in dirs {
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut found: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("contract vectors {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        found.sort();
        files.extend(found);
    }
    let mut src = String::from(
        "/// The contract conformance vectors: (file name, JSON).\npub const CONTRACT_VECTORS: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        // `contract/x.json`, `contract-0.2/y.json`: the directory says which vectors.
        let dir = f.parent().and_then(|d| d.file_name()).unwrap_or_default();
        let name = format!(
            "{}/{}",
            dir.to_string_lossy(),
            f.file_name().unwrap_or_default().to_string_lossy()
        );
        let path = f.canonicalize().unwrap();
        src.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    src.push_str("];\n");
    std::fs::write(out.join("contract_vectors.rs"), src).expect("write contract_vectors.rs");
}
