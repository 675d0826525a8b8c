//! The `kkr` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    kkr::run()
}
