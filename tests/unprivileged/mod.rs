//! Running coldctr as a user who cannot read what root can: a test of permission errors
//! (exit 4) made as root would read every file anyway.

use std::process::Command;

/// The coldctr binary as a command, run as nobody (uid and gid 65534, no groups) through
/// `setpriv` when the tests run as root; as the current user otherwise.
pub fn coldctr_unprivileged() -> Command {
    let bin = env!("CARGO_BIN_EXE_coldctr");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
        c
    } else {
        Command::new(bin)
    }
}
