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

/// Makes `cmd`'s process answer system call `nr` with `errno`, as a seccomp filter of a
/// container runtime or of systemd's `SystemCallFilter=` does (x86_64 only: elsewhere the
/// call is left alone, and `false` says so).
#[allow(dead_code, reason = "not every test binary that includes this module uses it")]
pub fn refuse_syscall(cmd: &mut Command, nr: i64, errno: i32) -> bool {
    if !cfg!(target_arch = "x86_64") {
        return false;
    }
    use std::os::unix::process::CommandExt;
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const ALLOW: u32 = 0x7fff_0000;
    const ERRNO: u32 = 0x0005_0000;
    let stmt = |code, k| libc::sock_filter { code, jt: 0, jf: 0, k };
    let filter = [
        stmt(LD_W_ABS, 4), // seccomp_data.arch
        libc::sock_filter {
            code: JEQ_K,
            jt: 1,
            jf: 0,
            k: AUDIT_ARCH_X86_64,
        },
        stmt(RET_K, ALLOW),
        stmt(LD_W_ABS, 0), // seccomp_data.nr
        libc::sock_filter {
            code: JEQ_K,
            jt: 0,
            jf: 1,
            k: u32::try_from(nr).expect("a syscall number"),
        },
        stmt(RET_K, ERRNO | (u32::try_from(errno).expect("an errno") & 0xffff)),
        stmt(RET_K, ALLOW),
    ];
    // SAFETY: between fork and exec, only prctl(2); the filter lives in the closure, moved
    // into the child's copy of the parent's memory.
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr().cast_mut(),
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &prog as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    true
}
