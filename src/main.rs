//! The `mimi-interop` binary: parses the command line, calls the library,
//! maps the outcome to an exit code (`src/exit.rs`).

use clap::{Args, Parser, Subcommand};
use mimi_interop::{content, exit, plan, protocol, reference, report, run, suite};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "mimi-interop",
    version,
    about = "Conformance and interoperability tests for MIMI messaging providers",
    after_help = "Examples:
  mimi-interop run                            every suite, two embedded reference providers
  mimi-interop run --targets targets.yaml     your service against the reference provider
  mimi-interop run --feature text --cell ref-a,ref-b
  mimi-interop list --tag minimum             what a selection would run
  mimi-interop validate                       check suites/ and targets.yaml, run nothing
  mimi-interop serve --domain a.example       a reference provider to point your service at
  mimi-interop content decode msg.cbor        inspect MIMI content bytes
  mimi-interop protocol decode --as notify body.bin   inspect a captured MIMI body
  mimi-interop run --shard 2/4 --reports shard-2   the second of four CI jobs
  mimi-interop run --targets t.yaml --expectations known.yaml   gate on unexpected results only
  mimi-interop run --retries 2                tell flaky cases (pass on a retry) from failing ones
  mimi-interop run --repeat 5 --feature text  run each case 5 times; differing runs are flaky
  mimi-interop merge shard-*/latest/report.json   one matrix from sharded runs
  mimi-interop diff old/report.json reports/latest/report.json   what changed since a run
  mimi-interop coverage                       which suites cover which requirement

Exit codes: 0 conformant, 1 a case failed or was flaky, 2 bad usage or input file, 3 target or harness error,
130/143 stopped by SIGINT/SIGTERM (partial reports)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the selected cases and write reports.
    Run(RunArgs),
    /// Show the planned cells and cases; run nothing.
    List(SelectArgs),
    /// Load suites and the targets file; run nothing.
    Validate(InputArgs),
    /// Run a reference MIMI provider until stopped.
    Serve(reference::serve::ServeArgs),
    /// Decode or encode MIMI content.
    #[command(subcommand)]
    Content(content::cli::ContentCommand),
    /// Decode or encode MIMI protocol bodies (docs/protocol.md).
    #[command(subcommand)]
    Protocol(protocol::cli::ProtocolCommand),
    /// Merge report.json files of sharded runs into one report set.
    Merge(MergeArgs),
    /// Compare two runs' report.json: regressions, fixes, changes (exit 1 on a regression).
    Diff(DiffArgs),
    /// Print the JSON Schema of the suite format.
    Schema,
    /// Print which suites and tests cover each requirement (Markdown).
    Coverage(CoverageArgs),
}

#[derive(Args)]
struct CoverageArgs {
    /// A suite file, or a directory searched recursively for *.yaml.
    #[arg(long, default_value = "suites")]
    suites: PathBuf,
}

#[derive(Args)]
struct MergeArgs {
    /// report.json files of runs over disjoint cells of the same suites.
    #[arg(required = true, value_name = "REPORT_JSON")]
    inputs: Vec<PathBuf>,
    /// Where the merged reports go: `<dir>/<merged-id>/` and `<dir>/latest/`.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
}

#[derive(Args)]
struct DiffArgs {
    /// The earlier run's report.json.
    old: PathBuf,
    /// The later run's report.json.
    new: PathBuf,
    /// Print Markdown (for a pull request or job summary) instead of text.
    #[arg(long)]
    markdown: bool,
}

#[derive(Args)]
struct InputArgs {
    /// A suite file, or a directory searched recursively for *.yaml.
    #[arg(long, default_value = "suites")]
    suites: PathBuf,
    /// Targets file; two builtin reference providers (ref-a, ref-b) when absent.
    #[arg(long)]
    targets: Option<PathBuf>,
}

#[derive(Args)]
struct SelectArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Only this feature (repeatable).
    #[arg(long = "feature", value_name = "ID")]
    features: Vec<String>,
    /// Only tests whose `feature/test` name matches this glob (repeatable).
    #[arg(long = "test", value_name = "GLOB")]
    tests: Vec<String>,
    /// Only tests with this tag, on the test or its suite (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Only cells whose both sides are among these targets (repeatable).
    #[arg(long = "target", value_name = "NAME")]
    only_targets: Vec<String>,
    /// Only this cell, written `a,b` (repeatable).
    #[arg(long = "cell", value_name = "A,B")]
    cells: Vec<String>,
    /// Only shard I of N of the selected cases (`merge` joins the shards' reports).
    #[arg(long, value_name = "I/N")]
    shard: Option<plan::shard::Shard>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    select: SelectArgs,
    /// Where reports go: `<dir>/<run-id>/` and `<dir>/latest/`.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    /// Cases in flight at once (the work is I/O bound).
    #[arg(long, default_value_t = run::DEFAULT_JOBS)]
    jobs: usize,
    /// Deadline for one step unless the suite sets one.
    #[arg(long, default_value = "10s", value_parser = duration)]
    step_timeout: Duration,
    /// Deadline for one case unless the suite sets one.
    #[arg(long, default_value = "60s", value_parser = duration)]
    case_timeout: Duration,
    /// Deadline for the whole run; cases still running then are `timeout`.
    #[arg(long, value_parser = duration)]
    run_timeout: Option<Duration>,
    /// Also write a short Markdown summary here (for a pull request). It is
    /// appended to `$GITHUB_STEP_SUMMARY` too when that is set.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,
    /// Gate on SHOULD too: a `non-strict` case makes the run exit 1.
    #[arg(long)]
    strict: bool,
    /// Run a case that ends fail, timeout or target-error again, up to N
    /// more times; one that then passes is `flaky` (still exit 1), never pass.
    #[arg(long, value_name = "N", default_value_t = 0)]
    retries: u32,
    /// Run every case N times; a case whose runs disagree is `flaky`
    /// (a stability mode; not with --retries).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..),
        conflicts_with = "retries"
    )]
    repeat: u32,
    /// Known outcomes, each with a reason (`docs/ci.md`): the exit code then
    /// counts only unexpected results.
    #[arg(long, value_name = "FILE")]
    expectations: Option<PathBuf>,
    /// An expected failure that now passes does not fail the run.
    #[arg(long, requires = "expectations")]
    allow_fixed: bool,
}

fn duration(s: &str) -> Result<Duration, String> {
    suite::parse_duration(s).map_err(|e| e.to_string())
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => runtime().block_on(run_command(args)),
        Command::List(args) => list_command(args),
        Command::Validate(args) => validate_command(args),
        Command::Serve(args) => match runtime().block_on(reference::serve::serve(args)) {
            Ok(()) => exit::CONFORMANT,
            Err(e) => {
                eprintln!("error: {e:#}");
                exit::TARGET_OR_HARNESS
            }
        },
        Command::Content(cmd) => content::cli::run(cmd),
        Command::Protocol(cmd) => protocol::cli::run(cmd),
        Command::Merge(args) => merge_command(args),
        Command::Diff(args) => diff_command(args),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&suite::json_schema()).expect("a schema serializes")
            );
            exit::CONFORMANT
        }
        Command::Coverage(args) => match load_suites(&args.suites) {
            Ok(suites) => {
                print!("{}", suite::coverage::markdown(&suites));
                exit::CONFORMANT
            }
            Err(e) => bad_input(e),
        },
    };
    std::process::exit(code);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// Loads suites and targets and plans; on bad input prints why and gives exit 2.
fn load_plan(args: &SelectArgs) -> Result<plan::model::Plan, i32> {
    let suites = load_suites(&args.input.suites).map_err(bad_input)?;
    let targets = match &args.input.targets {
        Some(path) => plan::targets::load_with_quirks(path, &reference::quirks::Quirk::names())
            .map_err(bad_input)?,
        None => plan::targets::defaults(),
    };
    let filters = report::model::Filters {
        features: args.features.clone(),
        tests: args.tests.clone(),
        tags: args.tags.clone(),
        targets: args.only_targets.clone(),
        cells: args.cells.clone(),
        shards: Vec::new(),
    };
    let mut plan = plan::build(targets, suites, &filters).map_err(bad_input)?;
    if let Some(shard) = args.shard {
        plan::shard::apply(&mut plan, shard);
    }
    Ok(plan)
}

fn load_suites(
    path: &std::path::Path,
) -> Result<Vec<plan::model::LoadedSuite>, suite::LoadSuiteError> {
    if path.is_file() {
        suite::load_file(path).map(|s| vec![s])
    } else {
        suite::load_dir(path)
    }
}

fn bad_input(e: impl std::fmt::Display) -> i32 {
    eprintln!("{e}");
    exit::BAD_INPUT
}

fn validate_command(args: InputArgs) -> i32 {
    let suites = match load_suites(&args.suites) {
        Ok(s) => s,
        Err(e) => return bad_input(e),
    };
    let tests: usize = suites.iter().map(|s| s.suite.tests.len()).sum();
    println!("{} suites, {tests} tests: valid", suites.len());
    if let Some(path) = &args.targets {
        match plan::targets::load_with_quirks(path, &reference::quirks::Quirk::names()) {
            Ok(t) => println!("{}: {} targets: valid", path.display(), t.len()),
            Err(e) => return bad_input(e),
        }
    }
    exit::CONFORMANT
}

fn list_command(args: SelectArgs) -> i32 {
    match load_plan(&args) {
        Ok(plan) => {
            print!("{}", plan::render_list(&plan));
            exit::CONFORMANT
        }
        Err(code) => code,
    }
}

async fn run_command(args: RunArgs) -> i32 {
    let plan = match load_plan(&args.select) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let expectations = match &args.expectations {
        Some(path) => {
            let names: Vec<&str> = plan.targets.iter().map(|t| t.name.as_str()).collect();
            match plan::expectations::load(path, &names) {
                Ok(e) => Some(e),
                Err(e) => return bad_input(e),
            }
        }
        None => None,
    };
    let interrupt = match run::Interrupt::on_signals() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::TARGET_OR_HARNESS;
        }
    };
    let opts = run::RunOptions {
        interrupt,
        jobs: args.jobs.max(1),
        step_timeout: args.step_timeout,
        case_timeout: args.case_timeout,
        run_timeout: args.run_timeout,
        strict: args.strict,
        reruns: match (args.retries, args.repeat) {
            (0, 1) => run::Reruns::Once,
            (0, n) => run::Reruns::Repeat(n),
            (n, _) => run::Reruns::Retries(n),
        },
        reproduce: reproduce(&args),
        ..run::RunOptions::new(&args.reports)
    };
    let launcher = match reference::Launcher::new() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot make the run's certificate authority: {e}");
            return exit::TARGET_OR_HARNESS;
        }
    };
    let progress = report::terminal::Progress::new();
    let mut report = run::execute(&plan, &opts, &launcher, &progress).await;
    if let Some(e) = &expectations {
        e.apply(&mut report, args.allow_fixed);
    }
    let color = report::terminal::stdout_is_fancy();
    print!("{}", report::terminal::summary(&report, color));
    let written = match report::write_all(&report, &args.reports) {
        Ok(written) => written,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::TARGET_OR_HARNESS;
        }
    };
    println!("reports: {}", written.run_dir.display());
    if let Err(e) = write_summary(&report, &written.run_dir, args.summary.as_deref()) {
        eprintln!("error: {e}");
        return exit::TARGET_OR_HARNESS;
    }
    if let Some(sig) = &report.interrupted {
        eprintln!("interrupted by {sig}: the run stopped early and its reports are partial");
        return exit::for_signal(sig);
    }
    exit::for_report(&report)
}

/// This run's inputs as a rerun of one case needs them: the program as
/// invoked, suites and targets as given, and the options that change a
/// verdict when they differ from their defaults.
fn reproduce(args: &RunArgs) -> run::repro::Reproduce {
    let program = std::env::args_os()
        .next()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mimi-interop".to_owned());
    let input = &args.select.input;
    let mut words = vec!["--suites".to_owned(), input.suites.display().to_string()];
    if let Some(t) = &input.targets {
        words.extend(["--targets".to_owned(), t.display().to_string()]);
    }
    let defaults = run::RunOptions::new(std::path::Path::new(""));
    for (flag, value, default) in [
        ("--step-timeout", args.step_timeout, defaults.step_timeout),
        ("--case-timeout", args.case_timeout, defaults.case_timeout),
    ] {
        if value != default {
            words.extend([
                flag.to_owned(),
                humantime::format_duration(value).to_string(),
            ]);
        }
    }
    if args.strict {
        words.push("--strict".to_owned());
    }
    run::repro::Reproduce {
        program,
        args: words,
    }
}

/// The pull-request summary, to `--summary` and to `$GITHUB_STEP_SUMMARY`
/// (appended: other steps of the job write there too).
fn write_summary(
    report: &report::model::RunReport,
    run_dir: &std::path::Path,
    file: Option<&std::path::Path>,
) -> Result<(), String> {
    let step_summary = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty());
    if file.is_none() && step_summary.is_none() {
        return Ok(());
    }
    let text = report::summary::render(report, &run_dir.display().to_string());
    if let Some(path) = file {
        std::fs::write(path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = step_summary {
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| format!("$GITHUB_STEP_SUMMARY {}: {e}", path.to_string_lossy()))?;
    }
    Ok(())
}

/// Reads, merges and writes; the exit code is the merged run's.
fn merge_command(args: MergeArgs) -> i32 {
    let mut reports = Vec::with_capacity(args.inputs.len());
    for path in &args.inputs {
        match read_report(path) {
            Ok(r) => reports.push(r),
            Err(e) => return bad_input(e),
        }
    }
    let merged = match report::merge(reports) {
        Ok(m) => m,
        Err(e) => return bad_input(e),
    };
    print!(
        "{}",
        report::terminal::summary(&merged, report::terminal::stdout_is_fancy())
    );
    match report::write_all(&merged, &args.reports) {
        Ok(written) => println!("reports: {}", written.run_dir.display()),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::TARGET_OR_HARNESS;
        }
    }
    exit::for_report(&merged)
}

/// Reads both reports and prints what changed; exit 1 on a regression, 2 when
/// the reports cannot be read or compared.
fn diff_command(args: DiffArgs) -> i32 {
    let (old, new) = match (read_report(&args.old), read_report(&args.new)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => return bad_input(e),
    };
    let diff = match report::diff::diff(&old, &new) {
        Ok(d) => d,
        Err(e) => return bad_input(e),
    };
    if args.markdown {
        print!("{}", report::diff::render_markdown(&diff));
    } else {
        print!("{}", report::diff::render_text(&diff));
    }
    if diff.has_regressions() {
        exit::FAILED
    } else {
        exit::CONFORMANT
    }
}

/// A `report.json`, or why it cannot be used, naming the file.
fn read_report(path: &std::path::Path) -> Result<report::model::RunReport, String> {
    std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| report::json::parse(&text).map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {e}", path.display()))
}
