//! The `vesting` command.
fn main() -> std::process::ExitCode {
    vesting_host::cli::main()
}
