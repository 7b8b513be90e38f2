//! Names the target's kernel notification API, once, for the rest of the
//! crate: `cfg(epoll)` on Linux and Android, `cfg(kqueue)` on the BSDs and
//! macOS. `src/sys/mod.rs` picks its backend by these two names. Any other
//! target is refused here, with the list of those supported.

use std::env;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(epoll, kqueue)");

    // The target's, not the host's: Cargo sets these for the build script.
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let vendor = env::var("CARGO_CFG_TARGET_VENDOR").unwrap_or_default();
    let api = match (os.as_str(), vendor.as_str()) {
        ("linux" | "android", _) => "epoll",
        ("freebsd" | "dragonfly" | "openbsd" | "netbsd", _) | (_, "apple") => "kqueue",
        _ => {
            println!(
                "cargo::error=reactor supports epoll (Linux, Android) and kqueue (BSD, macOS) \
                 only, not target_os {os:?}"
            );
            return;
        }
    };
    println!("cargo::rustc-cfg={api}");
}
