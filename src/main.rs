//! The `aurweb-migrate` binary: parse arguments, run the library, print `error: …` on stderr and
//! exit with the documented code.

mod cli;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let request = cli.into_request();
    init_logging(request.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(3);
        }
    };
    let code = match runtime.block_on(aurweb_migrate::app::run(request)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    drop(runtime);
    std::process::exit(code);
}

/// Logs go to stderr: warnings by default, `-vv` for debug, `RUST_LOG` to choose.
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 | 1 => "warn",
        2 => "aurweb_migrate=debug,info",
        _ => "aurweb_migrate=trace,debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(aurweb_migrate::report::use_colour(
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
        ))
        .with_target(false)
        .try_init();
}
