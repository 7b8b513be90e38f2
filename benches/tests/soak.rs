//! The 20-second soak: `scripts/soak.sh` at 8 s per server (SIGTERM under
//! load included), on the test build of the programs. The full one (2 or 15
//! minutes) stays out of CI.
//!
//! It lives here because its good clients are `loadgen`, this crate's. The
//! servers and clients are the `sockets` crate's, built beside `loadgen` by
//! the same `cargo test --workspace` (`scripts/test.sh`); on its own,
//! `cargo test -p benches` needs `cargo build -p sockets` first.

use std::path::Path;
use std::process::Command;

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "scripts/soak.sh reads memory and descriptors from /proc (Linux)"
)]
fn soak_both_servers_under_good_and_hostile_load() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_loadgen"))
        .parent()
        .expect("the binaries have a folder");
    for program in [
        "echo-server",
        "app-server",
        "app-client",
        "multiconn-client",
    ] {
        assert!(
            bin_dir.join(program).is_file(),
            "{program} is not in {}: build the sockets crate's programs first \
             (`cargo build -p sockets`, or `cargo test --workspace`)",
            bin_dir.display()
        );
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/soak.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--seconds", "8", "--good-conns", "300", "--per-kind", "5"])
        .arg("--bin-dir")
        .arg(bin_dir)
        .output()
        .expect("bash runs scripts/soak.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("soak: all checks passed"),
        "soak failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // Every check ran for both servers.
    assert_eq!(
        stdout.matches("[ok] good clients answered").count(),
        2,
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches("[ok] SIGTERM under load drains and exits 0")
            .count(),
        2,
        "{stdout}"
    );
}
