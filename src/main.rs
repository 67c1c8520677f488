#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::ExitCode;

// musl's own malloc is 2-4x slower at allocation-heavy work and does not scale across threads;
// the static (musl) build uses mimalloc. glibc builds keep the system allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    coldctr::cli::main()
}
