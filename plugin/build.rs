//! On wasm32-wasip2 a `no_std` crate still needs the C memory routines (`memcmp`, ...)
//! that std would bring in; take them from the target's self-contained wasi-libc.
//! `--gc-sections` keeps only those routines: they import nothing.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("wasm32-wasip") {
        println!("cargo:rustc-link-lib=c");
    }
}
