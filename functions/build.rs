//! Build script shared by every function binary (and the bare baseline it is measured
//! against): link a position-dependent executable on Linux.
//!
//! A Lambda binary is never loaded at a random address for a reason we need, and a PIE
//! carries a dynamic relocation for every pointer in its vtables and tables (about
//! 17,000, 400 KiB) that the loader applies on every cold start. Linking without PIE
//! resolves them at link time: a smaller file and less work before `main`. Only the
//! binaries get the flag; libraries and proc macros build as before.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
