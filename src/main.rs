//! The `aurweb-migrate` binary: parse arguments, run the library, print `error: …` on stderr and
//! exit with the documented code.

mod cli;

fn main() {
    let cli = match cli::Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
    let log_format = cli.log_format();
    let request = match cli.into_invocation() {
        // `completions` and `man`: made from the argument definitions, nothing else runs.
        cli::Invocation::Generated(Ok(text)) => {
            aurweb_migrate::report::print(&text);
            return;
        }
        cli::Invocation::Generated(Err(e)) => exit_with(&e),
        cli::Invocation::Run(request) => *request,
    };
    init_logging(request.verbose, request.quiet, log_format);
    aurweb_migrate::report::set_json_logs(matches!(log_format, cli::LogFormat::Json));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => exit_with(&aurweb_migrate::Error::AsyncRuntime {
            message: e.to_string(),
        }),
    };
    let code = match runtime.block_on(aurweb_migrate::app::run(request)) {
        Ok(code) => code,
        Err(e) => {
            aurweb_migrate::report::final_error(&e);
            e.exit_code()
        }
    };
    drop(runtime);
    std::process::exit(code);
}

/// An error before the library runs: its `error: …` line, and its exit code.
fn exit_with(e: &aurweb_migrate::Error) -> ! {
    aurweb_migrate::report::error_line(e);
    std::process::exit(e.exit_code())
}

/// An argument the parser rejects: clap's message on stderr and exit 2, as always; with
/// `--format json` on the command line, also the JSON error document on stdout, so a caller
/// that parses stdout (`from_json` in Ansible) never meets an empty one. `--help` and
/// `--version` print as usual.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        && cli::wants_json(std::env::args_os())
    {
        let rendered = e.render().to_string();
        let message = rendered
            .trim()
            .trim_start_matches("error: ")
            .split("\n\n")
            .next()
            .unwrap_or_default()
            .to_string();
        let doc = aurweb_migrate::report::error_json(&aurweb_migrate::Error::Usage(message), None);
        aurweb_migrate::report::print_json(&doc);
    }
    e.exit()
}

/// Logs go to stderr: warnings by default (errors only with `-q`), `-vv` for debug,
/// `RUST_LOG` to choose; text or one JSON object per line (`--log-format json`).
fn init_logging(verbose: u8, quiet: bool, format: cli::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        _ if quiet => "error",
        0 | 1 => "warn",
        2 => "aurweb_migrate=debug,info",
        _ => "aurweb_migrate=trace,debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogWriter)
        .with_target(false);
    let _ = match format {
        cli::LogFormat::Text => builder
            .with_ansi(aurweb_migrate::report::use_colour(
                std::io::IsTerminal::is_terminal(&std::io::stderr()),
            ))
            .try_init(),
        cli::LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_ansi(false)
            .try_init(),
    };
}

/// stderr, with the live progress line (if one is drawn) cleared while a log line is written.
struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        aurweb_migrate::report::progress::suspend(|| std::io::stderr().write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        aurweb_migrate::report::progress::suspend(|| std::io::stderr().write_all(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
