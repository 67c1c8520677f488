use std::process::ExitCode;

fn main() -> ExitCode {
    coldctr::cli::main()
}
