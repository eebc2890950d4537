//! `ir-opt`: the trtfx command-line tool for compiler authors.
//!
//! ```text
//! ir-opt import  MODEL.pt2 [-o OUT.fxir] [--emit fxir|json]
//! ir-opt opt     INPUT(.pt2|.fxir|.json) --passes PIPELINE [--print-ir-after-all] [--timing] [--emit fxir|json|dot]
//! ir-opt check   INPUT.pt2
//! ir-opt run     INPUT(.pt2|.fxir|.json|.trtfx) --inputs IO.safetensors [--expect IO.safetensors] [--rtol R --atol A]
//! ir-opt params  INPUT
//! ir-opt engine  MODEL -o OUT.plan [--print-network]
//! ir-opt compile MODEL -o OUT.trtfx [--min-block-size N] [--fallback-ops a,b] [--require-full-compilation]
//!                [--truncate-double] [--int64 native|int32|fallback] [--small-int int32|native]
//!                [--dump-pipeline] [--report]
//! ir-opt opt     MODEL --passes 'compile{...}' -o OUT.trtfx    # the same artifact
//! ir-opt passes                                                # passes, pipelines, backends
//! ir-opt inspect OUT.trtfx
//! ir-opt ops     [--format md|json] [--filter TEXT]
//! ir-opt oplib   LIB.pt2|LIB.fxir... [-o OUT.fxir]            # libraries in canonical .fxir form
//! ir-opt ... --op-library FILE                               # custom ops (any subcommand, repeatable)
//! ir-opt conform [--corpus tests/conformance/corpus.tar.gz] [--filter TEXT] [--threads N]
//!                [--write-coverage docs/coverage.md] [--write-ratchet tests/conformance/ratchet.txt]
//!                [--ratchet tests/conformance/ratchet.txt]
//! ```
//! Exit code 0 on success, 1 on a user error (bad input, mismatch) with one clear message.

mod progress;
mod refit;
mod timing;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use trtfx::exec::interp::{Executor, Value};
use trtfx::ir::{aten, text, Program};
use trtfx::passes::{IrPrinter, PassManager, PassManagerOptions, PassRegistry, PrintConfig, Sink};

#[derive(Parser)]
#[command(
    name = "ir-opt",
    version,
    about = "trtfx: import, transform, check and run torch.export programs"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// An op library: a custom operator's schema and body, as a `.pt2` exported from its
    /// Python reference or a `.fxir` file (docs/custom-ops.md). Repeatable; every subcommand
    /// takes it.
    #[arg(long = "op-library", value_name = "FILE", global = true)]
    op_library: Vec<PathBuf>,
}

/// The op libraries of the command line and the op table they extend.
struct Libs {
    libs: trtfx::oplib::OpLibraries,
    ops: Arc<trtfx::ir::OpRegistry>,
}

impl Libs {
    fn load(paths: &[PathBuf]) -> Result<Libs> {
        let libs = trtfx::oplib::load_libraries(paths).map_err(|e| anyhow!("{e}"))?;
        let ops = Arc::new(libs.registry().map_err(|e| anyhow!("{e}"))?);
        Ok(Libs { libs, ops })
    }

    /// The pass registry: the standard one, or one whose TensorRT backend sees the library
    /// operators.
    fn pass_registry(&self) -> PassRegistry {
        if self.libs.is_empty() {
            trtfx::pass_registry()
        } else {
            trtfx::pass_registry_with_ops(self.ops.clone())
        }
    }

    /// Loads a program and checks its library calls against the libraries' schemas.
    fn load_program(&self, path: &Path) -> Result<Program> {
        let p = load(path)?;
        // The message names the library; the error names the program.
        self.libs
            .check_program(&p)
            .map_err(|e| anyhow!("{}: {}", path.display(), e.message))?;
        Ok(p)
    }

    /// Fails with the one-line "no library" error when `p` calls an unknown custom operator.
    fn require_all_ops(
        &self,
        origin: &Path,
        p: &Program,
        ops: &trtfx::ir::OpRegistry,
    ) -> Result<()> {
        match trtfx::oplib::missing_library_error(&origin.display().to_string(), p, ops) {
            Some(e) => bail!("{e}"),
            None => Ok(()),
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Emit {
    /// The `.fxir` text format.
    Fxir,
    /// JSON (versioned; weights included).
    Json,
    /// Graphviz of the main graph (segments coloured).
    Dot,
}

/// `--int64`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Int64Arg {
    /// i64 stays i64.
    Native,
    /// i64 becomes i32 inside TensorRT segments.
    Int32,
    /// Nodes with i64 values stay on the executor.
    Fallback,
}

/// `--small-int`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum SmallIntArg {
    /// u8/i8/i16/u16 become i32 inside TensorRT segments, wrap-around repaired.
    Int32,
    /// They stay as they are: such nodes run on the executor.
    Native,
}

impl From<SmallIntArg> for trtfx::SmallIntPolicy {
    fn from(a: SmallIntArg) -> Self {
        match a {
            SmallIntArg::Int32 => trtfx::SmallIntPolicy::Int32,
            SmallIntArg::Native => trtfx::SmallIntPolicy::Native,
        }
    }
}

impl From<Int64Arg> for trtfx::Int64Policy {
    fn from(a: Int64Arg) -> Self {
        match a {
            Int64Arg::Native => trtfx::Int64Policy::Native,
            Int64Arg::Int32 => trtfx::Int64Policy::Int32,
            Int64Arg::Fallback => trtfx::Int64Policy::Fallback,
        }
    }
}

/// `--precision`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum PrecisionArg {
    /// f32 stays f32.
    F32,
    /// f32 inside TensorRT segments becomes f16 (sensitive operators stay f32).
    Fp16,
    /// f32 inside TensorRT segments becomes bf16 (sensitive operators stay f32).
    Bf16,
}

impl From<PrecisionArg> for trtfx::Precision {
    fn from(a: PrecisionArg) -> Self {
        match a {
            PrecisionArg::F32 => trtfx::Precision::F32,
            PrecisionArg::Fp16 => trtfx::Precision::Fp16,
            PrecisionArg::Bf16 => trtfx::Precision::Bf16,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Import a `.pt2` archive and print (or write) the program.
    Import {
        /// The archive.
        model: PathBuf,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "fxir")]
        emit: Emit,
    },
    /// Run a pass pipeline and print the result.
    Opt {
        /// `.pt2`, `.fxir` or `.json` program.
        input: PathBuf,
        /// The pipeline, e.g. `default` or `dce,cse,fixpoint{max=4}(canonicalize)`.
        #[arg(long, default_value = "")]
        passes: String,
        /// Print the expanded pipeline and exit.
        #[arg(long)]
        dump_pipeline: bool,
        /// Print the IR before these passes.
        #[arg(long, value_delimiter = ',')]
        print_ir_before: Vec<String>,
        /// Print the IR after these passes.
        #[arg(long, value_delimiter = ',')]
        print_ir_after: Vec<String>,
        /// Print the IR after every pass.
        #[arg(long)]
        print_ir_after_all: bool,
        /// Print the IR after every pass that changed it.
        #[arg(long)]
        print_ir_after_change: bool,
        /// Print the IR after a failing pass.
        #[arg(long)]
        print_ir_after_failure: bool,
        /// Print a timing tree (passes, analyses, verifier).
        #[arg(long)]
        timing: bool,
        /// Print per-pass counters.
        #[arg(long)]
        statistics: bool,
        /// Do not verify after each pass.
        #[arg(long)]
        no_verify_each: bool,
        /// Decide whether a pass changed the IR by hashing the printed program around it,
        /// instead of the O(1) graph-epoch check (forgives mutations a pass undid; costs a
        /// print of the program per pass).
        #[arg(long)]
        expensive_checks: bool,
        /// On failure, write the input and pipeline here so the failure can be replayed.
        #[arg(long)]
        crash_reproducer: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "fxir")]
        emit: Emit,
        /// Output file (default: standard output). A `.trtfx` file gets the compiled artifact
        /// of a `compile{...}` pipeline (the program and the pipeline's partition report and
        /// built engines), byte-identical to what `ir-opt compile` writes for the same options.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List the registered passes, named pipelines and backends with their options.
    Passes,
    /// Verify, re-infer every type and compare with the types PyTorch recorded.
    Check {
        /// The archive.
        model: PathBuf,
    },
    /// Run a program on the CPU executor, or a compiled `.trtfx` artifact (TensorRT segments on
    /// the layer emulator, the rest on the executor).
    Run {
        /// `.pt2`, `.fxir`, `.json` program or `.trtfx` artifact.
        input: PathBuf,
        /// Safetensors with `in_0..` (user inputs in signature order).
        #[arg(long)]
        inputs: PathBuf,
        /// Safetensors with `out_0..` goldens to compare with.
        #[arg(long)]
        expect: Option<PathBuf>,
        /// Relative tolerance for floating outputs.
        #[arg(long, default_value_t = 1e-4)]
        rtol: f64,
        /// Absolute tolerance for floating outputs.
        #[arg(long, default_value_t = 1e-5)]
        atol: f64,
        /// Write the outputs as `out_0..` to this safetensors file.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Untimed runs before the timed ones (with `--iterations`).
        #[arg(long, default_value_t = 0, requires = "iterations")]
        warmup: usize,
        /// Run the program N times and print a latency summary (min, mean, median, p90, p99,
        /// max, throughput). Outputs and `--expect` use the last run.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        iterations: Option<u32>,
    },
    /// Build one TensorRT engine for the whole program, or list every node that prevents it.
    /// Nothing is written on failure.
    Engine {
        /// The program.
        model: PathBuf,
        /// Where to write the serialized plan.
        #[arg(short, long)]
        output: PathBuf,
        /// Print the recorded TensorRT network.
        #[arg(long)]
        print_network: bool,
    },
    /// Report user inputs, parameters, buffers and constants with sizes.
    Params {
        /// `.pt2`, `.fxir` or `.json` program.
        input: PathBuf,
    },
    /// Compile a program into a `.trtfx` artifact: TensorRT segments (recorded networks, and
    /// plans when the TensorRT library is available) and executor fallback. Nothing is written
    /// on failure.
    Compile {
        /// `.pt2`, `.fxir` or `.json` program.
        model: PathBuf,
        /// The artifact to write (required unless `--dump-pipeline`).
        #[arg(short, long, required_unless_present = "dump_pipeline")]
        output: Option<PathBuf>,
        /// TensorRT segments with fewer compute nodes fall back to the executor.
        #[arg(long, default_value_t = trtfx::CompileSettings::default().min_block_size)]
        min_block_size: usize,
        /// Operators forced to the executor (`aten.embedding.default,aten.sort.default`).
        #[arg(long, value_delimiter = ',')]
        fallback_ops: Vec<String>,
        /// Fail unless every node runs on TensorRT.
        #[arg(long)]
        require_full_compilation: bool,
        /// Run f64 computation on TensorRT in f32 (only inside TensorRT segments; casts at
        /// their boundaries keep f64 everywhere else).
        #[arg(long)]
        truncate_double: bool,
        /// i64 inside TensorRT segments: native (only converters that take i64), int32
        /// (truncated; compile-time values outside int32 are an error) or fallback.
        #[arg(long, value_enum, default_value = "native")]
        int64: Int64Arg,
        /// u8/i8/i16/u16 inside TensorRT segments: int32 (widened; arithmetic results are
        /// reduced back into the narrow range, so results are exact) or native (they stay on
        /// the executor: TensorRT has no arithmetic on these types).
        #[arg(long, value_enum, default_value = "int32")]
        small_int: SmallIntArg,
        /// Precision of f32 computation inside TensorRT segments (the `autocast` pass; see
        /// docs/precision.md): numerically sensitive operators stay f32, program inputs and
        /// outputs keep their types.
        #[arg(long, value_enum, default_value = "f32")]
        precision: PrecisionArg,
        /// Operators kept in f32 under `--precision fp16|bf16` besides the policy table
        /// (`aten.gelu.default,aten.tanh`).
        #[arg(long, value_delimiter = ',')]
        keep_f32: Vec<String>,
        /// Print the pipeline `compile` runs (what `ir-opt opt --passes` takes) and exit.
        #[arg(long)]
        dump_pipeline: bool,
        /// Print the compile report (segments, operators, unsupported nodes, plans).
        #[arg(long)]
        report: bool,
        /// Reuse TensorRT plans built before for the same network, settings and library, from
        /// this directory (content-addressed; `--cache` alone: `$TRTFX_CACHE_DIR`, else
        /// `$XDG_CACHE_HOME/trtfx/plans`, else `~/.cache/trtfx/plans`). Off by default.
        #[arg(long, value_name = "DIR", num_args = 0..=1)]
        cache: Option<Option<PathBuf>>,
        /// Build plans weight-stripped and refittable, so each weight is stored once, in the
        /// artifact's weight store (off by default: TensorRT-RTX needs a CUDA device for it).
        #[arg(long)]
        strip_weights: bool,
        /// No progress bar and no summary line (the bar is drawn only when stderr is a
        /// terminal anyway).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Replace the weights of a compiled artifact without rebuilding its plans: names, dtypes
    /// and shapes are checked against the program, weight-stripped plans are kept (refitted
    /// with the new weights where they run), the recorded networks are converted again.
    Refit {
        /// The artifact.
        artifact: PathBuf,
        /// The new weights (safetensors, named like the program's weights: a PyTorch
        /// `state_dict` saved with `safetensors.torch.save_file`).
        #[arg(long)]
        weights: PathBuf,
        /// Where to write the refitted artifact (default: replace ARTIFACT).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Allow a subset of the weights (the others keep their values); without it every
        /// parameter and buffer must be given.
        #[arg(long)]
        partial: bool,
    },
    /// Load op libraries (`.pt2` exported references or `.fxir`), check them, and print (or
    /// write) them in the canonical `.fxir` form: one graph per operator, named by its schema.
    Oplib {
        /// The libraries (added to any `--op-library` ones).
        libraries: Vec<PathBuf>,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Print a `.trtfx` artifact's manifest: versions, input and output specs, segments with
    /// node and layer counts, plans.
    Inspect {
        /// The artifact.
        artifact: PathBuf,
    },
    /// Print the op table: per operator overload, whether it is core ATen, and how inference,
    /// the executor and TensorRT handle it (directly, by decomposition, or not at all).
    Ops {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OpsFormat::Md)]
        format: OpsFormat,
        /// Only operators whose name contains this text (`aten.add`, `.Tensor`, `prims.`).
        #[arg(long)]
        filter: Option<String>,
    },
    /// Run the OpInfo conformance corpus (`tests/conformance/`): every case in both dialects
    /// through check, run, engine (conversion only) and compile -> run; print the summary and
    /// the top failure causes.
    Conform(ConformArgs),
}

/// Arguments of `ir-opt conform`.
#[derive(clap::Args)]
struct ConformArgs {
    /// The corpus archive written by `tests/conformance/gen.py`.
    #[arg(long, default_value = "tests/conformance/corpus.tar.gz")]
    corpus: PathBuf,
    /// Only cases whose id or OpInfo entry contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Worker threads (default: the available parallelism).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Write the coverage report (Markdown) here.
    #[arg(long)]
    write_coverage: Option<PathBuf>,
    /// Write the passing case x dialect x stage list (the ratchet) here.
    #[arg(long)]
    write_ratchet: Option<PathBuf>,
    /// Compare with this ratchet: exit 1 when a listed case no longer passes.
    #[arg(long)]
    ratchet: Option<PathBuf>,
    /// How many failure causes to print per stage and dialect.
    #[arg(long, default_value_t = 12)]
    top: usize,
    /// Also print every failing case x dialect x stage with its message
    /// (`FAIL CASE DIALECT STAGE: MESSAGE`), for debugging one op with `--filter`.
    #[arg(long)]
    list_failures: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum OpsFormat {
    /// A Markdown summary and table.
    Md,
    /// A JSON array of rows.
    Json,
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`ir-opt ops | head`), as Unix filters do, instead of
    // panicking in `print!` (Rust ignores SIGPIPE by default).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Loads a program from a `.pt2` archive, `.fxir` text (with its weights sidecar when present)
/// or `.json`.
fn load(path: &Path) -> Result<Program> {
    trtfx::load_program(path).map_err(|e| anyhow!("{e}"))
}

fn emit(p: &Program, how: Emit, out: Option<&Path>) -> Result<()> {
    let s = match how {
        Emit::Fxir => text::print_program(p),
        Emit::Json => p.to_json().map_err(|e| anyhow!("serializing: {e}"))?,
        Emit::Dot => trtfx::dot::program_to_dot(p),
    };
    match out {
        // `.fxir` written to a file keeps its weights in a sidecar (`.json` has them inline).
        Some(path)
            if how == Emit::Fxir && path.extension().and_then(|e| e.to_str()) != Some("json") =>
        {
            trtfx::save_program(p, path).map_err(|e| anyhow!("{e}"))
        }
        Some(path) => {
            std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            print!("{s}");
            Ok(())
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let libs = Libs::load(&cli.op_library)?;
    match cli.cmd {
        Cmd::Import {
            model,
            output,
            emit: how,
        } => {
            let p = libs.load_program(&model)?;
            emit(&p, how, output.as_deref())?;
        }
        Cmd::Opt {
            input,
            passes,
            dump_pipeline,
            print_ir_before,
            print_ir_after,
            print_ir_after_all,
            print_ir_after_change,
            print_ir_after_failure,
            timing,
            statistics,
            no_verify_each,
            expensive_checks,
            crash_reproducer,
            emit: how,
            output,
        } => {
            let registry: PassRegistry = libs.pass_registry();
            let pipeline = registry
                .parse_pipeline(&passes)
                .map_err(|e| anyhow!("invalid pipeline:\n{e}"))?;
            if dump_pipeline {
                println!("{pipeline}");
                return Ok(ExitCode::SUCCESS);
            }
            let mut p = libs.load_program(&input)?;
            let options = PassManagerOptions {
                verify_each: !no_verify_each,
                expensive_checks,
                crash_reproducer,
                statistics,
                timing,
                ..Default::default()
            };
            let mut pm = PassManager::new(pipeline)
                .with_options(options)
                .with_ops(libs.ops.clone());
            let print = PrintConfig {
                before: print_ir_before,
                after: print_ir_after,
                after_all: print_ir_after_all,
                after_change: print_ir_after_change,
                after_failure: print_ir_after_failure,
                ..Default::default()
            };
            pm = pm.add_instrumentation(IrPrinter::new(print, Sink::Stderr));
            let result = pm.run(&mut p);
            if timing {
                if let Some(t) = pm.timing_report(true) {
                    eprint!("{t}");
                }
            }
            if statistics {
                eprint!("{}", pm.statistics().report());
            }
            result.map_err(|e| anyhow!("{e}"))?;
            match output.as_deref() {
                Some(out) if is_artifact(out) => {
                    let mut compiled = trtfx::CompiledProgram::from_pipeline(p, pm.products())
                        .map_err(|e| anyhow!("{}: {e}", out.display()))?;
                    compiled
                        .add_libraries(&libs.libs)
                        .map_err(|e| anyhow!("{e}"))?;
                    compiled.save(out)?;
                    eprintln!(
                        "wrote {} ({} segment(s), {} on TensorRT)",
                        out.display(),
                        compiled.segments.len(),
                        compiled.trt_segments().count()
                    );
                }
                out => emit(&p, how, out)?,
            }
        }
        Cmd::Passes => print!("{}", libs.pass_registry().help()),
        Cmd::Check { model } => {
            let p = libs.load_program(&model)?;
            if let Err(diags) = trtfx::ir::verify_program(&p, Some(&libs.ops)) {
                bail!(
                    "{} does not verify:\n{}",
                    model.display(),
                    trtfx::ir::verify::render(&diags)
                );
            }
            let report = aten::check_program(&p, &libs.ops);
            print!("{report}");
            if !report.ok() {
                return Ok(ExitCode::from(1));
            }
        }
        Cmd::Run {
            input,
            inputs,
            expect,
            rtol,
            atol,
            output,
            warmup,
            iterations,
        } => {
            let io = trtfx::io::read_io(&inputs)?;
            let timed = iterations.map_or(1, |n| n as usize);
            let mut samples = Vec::with_capacity(timed);
            let tensors = if is_artifact(&input) {
                let mut c = trtfx::CompiledProgram::load(&input)?;
                c.add_libraries(&libs.libs).map_err(|e| anyhow!("{e}"))?;
                if let Some(e) =
                    trtfx::oplib::missing_library_error_compiled(&input.display().to_string(), &c)
                {
                    bail!("{e}");
                }
                for _ in 0..warmup {
                    c.run(&io.inputs)?;
                }
                let mut run = None;
                for _ in 0..timed {
                    let start = std::time::Instant::now();
                    run = Some(c.run(&io.inputs)?);
                    samples.push(start.elapsed());
                }
                let run = run.expect("at least one timed run");
                let elapsed = samples[samples.len() - 1];
                let count = |rt: trtfx::Runtime| run.runtimes.iter().filter(|r| r.1 == rt).count();
                eprintln!(
                    "ran in {:.3} ms: {} TensorRT segment(s) on the layer emulator (plans are not \
                     executed by this build), {} segment(s) on the CPU executor",
                    elapsed.as_secs_f64() * 1e3,
                    count(trtfx::Runtime::LayerEmulator),
                    count(trtfx::Runtime::Executor),
                );
                run.outputs
            } else {
                let p = libs.load_program(&input)?;
                libs.require_all_ops(&input, &p, &libs.ops)?;
                let mut ex = Executor::new(&p);
                ex.set_ops(libs.ops.clone());
                let args: Vec<Value> = io.inputs.into_iter().map(Value::Tensor).collect();
                for _ in 0..warmup {
                    ex.run(&args).map_err(|e| anyhow!("{e}"))?;
                }
                let mut outs = Vec::new();
                for _ in 0..timed {
                    let start = std::time::Instant::now();
                    outs = ex.run(&args).map_err(|e| anyhow!("{e}"))?;
                    samples.push(start.elapsed());
                }
                let elapsed = samples[samples.len() - 1];
                let tensors = outs
                    .iter()
                    .map(|v| match v {
                        Value::Tensor(t) => Ok(t.clone()),
                        Value::Int(i) => Ok(trtfx::exec::Tensor::scalar(*i)),
                        Value::Float(f) => Ok(trtfx::exec::Tensor::scalar(*f)),
                        Value::Bool(b) => Ok(trtfx::exec::Tensor::scalar(*b)),
                        other => Err(anyhow!("output of kind {} cannot be written", other.kind())),
                    })
                    .collect::<Result<Vec<_>>>()?;
                eprintln!(
                    "ran in {:.3} ms on the CPU executor",
                    elapsed.as_secs_f64() * 1e3
                );
                tensors
            };
            if iterations.is_some() {
                if let Some(summary) = timing::TimingSummary::new(warmup, &samples) {
                    print!("{summary}");
                }
            }
            if let Some(path) = &output {
                trtfx::io::write_tensors(path, "out_", &tensors)?;
            }
            if let Some(path) = expect {
                if !compare_outputs(&tensors, &path, rtol, atol)? {
                    return Ok(ExitCode::from(1));
                }
            } else {
                for (i, t) in tensors.iter().enumerate() {
                    println!("out_{i}: {} {:?}", t.dtype().name(), t.shape());
                }
            }
        }
        Cmd::Engine {
            model,
            output,
            print_network,
        } => {
            let p = libs.load_program(&model)?;
            libs.require_all_ops(&model, &p, &libs.ops)?;
            let reg =
                trtfx::backend::convert::ConverterRegistry::standard().with_ops(libs.ops.clone());
            let settings = trtfx::backend::settings::BuildSettings::default();
            let engine = trtfx::backend::engine::convert_to_engine(&p, &reg, &settings)
                .map_err(|e| anyhow!("{}: {e}", model.display()))?;
            if print_network {
                print!("{}", engine.network);
            }
            match &engine.plan {
                trtfx::backend::engine::PlanOutcome::Built { plan, build_time } => {
                    std::fs::write(&output, &plan.bytes)
                        .with_context(|| format!("writing {}", output.display()))?;
                    eprintln!(
                        "wrote {} ({} bytes, built in {:.2} s)",
                        output.display(),
                        plan.bytes.len(),
                        build_time.as_secs_f64()
                    );
                }
                trtfx::backend::engine::PlanOutcome::Skipped { reason } => {
                    bail!("the network converted, but no plan was built: {reason}");
                }
            }
        }
        Cmd::Params { input } => {
            let p = libs.load_program(&input)?;
            print!("{}", trtfx::param_report(&p));
        }
        Cmd::Compile {
            model,
            output,
            min_block_size,
            fallback_ops,
            require_full_compilation,
            truncate_double,
            int64,
            small_int,
            precision,
            keep_f32,
            dump_pipeline,
            report,
            cache,
            strip_weights,
            quiet,
        } => {
            let plan_cache = match cache {
                None => None,
                Some(None) => Some(
                    trtfx::backend::plan_cache::PlanCache::default_dir().ok_or_else(|| {
                        anyhow!(
                            "--cache: no default cache directory (set TRTFX_CACHE_DIR or HOME, \
                             or give --cache DIR)"
                        )
                    })?,
                ),
                Some(Some(dir)) => Some(dir),
            };
            let settings = trtfx::CompileSettings {
                min_block_size,
                fallback_ops,
                require_full_compilation,
                truncate_double,
                int64: int64.into(),
                small_int: small_int.into(),
                precision: precision.into(),
                keep_f32,
                plan_cache,
                build: trtfx::backend::BuildSettings {
                    strip_weights,
                    ..Default::default()
                },
                ..Default::default()
            };
            if dump_pipeline {
                println!("{}", settings.pipeline_text());
                return Ok(ExitCode::SUCCESS);
            }
            if is_artifact(&model) {
                bail!(
                    "{} is already compiled; give the program (.pt2, .fxir or .json)",
                    model.display()
                );
            }
            let Some(output) = output else {
                bail!("compile needs -o OUT.trtfx");
            };
            let p = libs.load_program(&model)?;
            libs.require_all_ops(&model, &p, &libs.ops)?;
            let start = std::time::Instant::now();
            let bar = progress::compile_bar(quiet);
            let compiled = trtfx::compile_with_progress(
                &p,
                &settings,
                &libs.libs,
                bar.as_ref().map(|(cb, _)| cb.clone()),
            );
            if let Some((_, pb)) = &bar {
                pb.finish_and_clear();
            }
            let compiled = compiled.map_err(|e| match e {
                // Library errors name their file already.
                trtfx::CompileError::Library(e) => anyhow!("{e}"),
                e => anyhow!("{}: {e}", model.display()),
            })?;
            let elapsed = start.elapsed();
            for (seg, t) in compiled.trt_segments() {
                if let Some(w) = t.plan_cache.as_ref().and_then(|u| u.warning()) {
                    eprintln!("warning: segment @{}: {w}", seg.graph);
                }
            }
            if report {
                print!("{}", compiled.report());
            }
            compiled.save(&output)?;
            let plans = compiled
                .trt_segments()
                .filter(|(_, t)| t.plan.is_some())
                .count();
            if !quiet {
                eprintln!(
                    "wrote {} ({} segment(s), {} on TensorRT, {plans} plan(s)) in {:.2} s",
                    output.display(),
                    compiled.segments.len(),
                    compiled.trt_segments().count(),
                    elapsed.as_secs_f64()
                );
            }
        }
        Cmd::Refit {
            artifact,
            weights,
            output,
            partial,
        } => {
            let line = refit::run(&artifact, &weights, output.as_deref(), partial)?;
            eprintln!("{line}");
        }
        Cmd::Oplib { libraries, output } => {
            let mut all = cli.op_library.clone();
            all.extend(libraries);
            if all.is_empty() {
                bail!("oplib needs at least one library file");
            }
            let libs = Libs::load(&all)?;
            let text: String = libs
                .libs
                .iter()
                .map(|l| l.to_text())
                .collect::<Vec<_>>()
                .join("\n");
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
        }
        Cmd::Inspect { artifact } => {
            let c = trtfx::CompiledProgram::load(&artifact)?;
            print!("{}", inspect(&c));
        }
        Cmd::Ops { format, filter } => {
            let rows = trtfx::ops_table::op_rows(&libs.ops, filter.as_deref());
            if rows.is_empty() {
                bail!(
                    "no operator matches `{}`",
                    filter.as_deref().unwrap_or_default()
                );
            }
            match format {
                OpsFormat::Md => print!("{}", trtfx::ops_table::ops_markdown(&rows)),
                OpsFormat::Json => println!("{}", trtfx::ops_table::ops_json(&rows)),
            }
        }
        Cmd::Conform(args) => return conform(args),
    }
    Ok(ExitCode::SUCCESS)
}

/// `ir-opt conform`.
fn conform(args: ConformArgs) -> Result<ExitCode> {
    let ConformArgs {
        corpus,
        filter,
        threads,
        write_coverage,
        write_ratchet,
        ratchet,
        top,
        list_failures,
    } = args;
    use trtfx::conform::{self, Dialect, RunOptions, Stage};
    let start = std::time::Instant::now();
    let c = conform::Corpus::read(&corpus)?;
    let ratchet = ratchet
        .map(|p| conform::read_ratchet(&p).map(|r| (p, r)))
        .transpose()?;
    let loaded = start.elapsed();
    let results = conform::run(&c, &RunOptions { filter, threads });
    if results.is_empty() {
        bail!("{}: no case matches the filter", corpus.display());
    }
    let elapsed = start.elapsed();
    let summary = conform::summarize(&c, &results);
    print!("{}", conform::summary_text(&summary));
    println!("top failure causes (failing cases):");
    for st in Stage::ALL {
        for d in Dialect::ALL {
            let list = &summary.causes[d as usize][st as usize];
            if list.is_empty() {
                continue;
            }
            let items: Vec<String> = list
                .iter()
                .take(top)
                .map(|(cause, n)| format!("{cause} {n}"))
                .collect();
            println!("  {} {}: {}", st.name(), d.name(), items.join(", "));
        }
    }
    if list_failures {
        for r in &results {
            for st in Stage::ALL {
                if let Some(f) = &r.stages[st as usize] {
                    println!(
                        "FAIL {} {} {}: {}",
                        c.cases[r.case].id,
                        r.dialect.name(),
                        st.name(),
                        f.message
                    );
                }
            }
        }
    }
    let slowest = results.iter().max_by_key(|r| r.time);
    eprintln!(
        "ran {} case x dialect runs in {:.1} s (corpus read in {:.1} s){}",
        results.len(),
        elapsed.as_secs_f64(),
        loaded.as_secs_f64(),
        slowest
            .map(|r| format!(
                "; slowest: {} {} {:.2} s",
                c.cases[r.case].id,
                r.dialect.name(),
                r.time.as_secs_f64()
            ))
            .unwrap_or_default()
    );
    if let Some(path) = &write_coverage {
        std::fs::write(path, conform::coverage_markdown(&c, &results))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &write_ratchet {
        let keys = conform::passing(&c, &results);
        std::fs::write(path, conform::ratchet_text(&keys))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {} ({} passing entries)", path.display(), keys.len());
    }
    if let Some((path, r)) = ratchet {
        let regressions = conform::ratchet_regressions(&c, &results, &r);
        for ((id, d, st), why) in &regressions {
            println!("REGRESSION {id} {} {}: {why}", d.name(), st.name());
        }
        if !regressions.is_empty() {
            eprintln!(
                "{} ratchet entries of {} no longer pass",
                regressions.len(),
                path.display()
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `path` names a compiled artifact.
fn is_artifact(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some("trtfx")
}

/// Compares outputs with the goldens of `path`, one line per output; false on a mismatch.
fn compare_outputs(
    tensors: &[trtfx::exec::Tensor],
    path: &Path,
    rtol: f64,
    atol: f64,
) -> Result<bool> {
    let golden = trtfx::io::read_io(path)?;
    if golden.outputs.len() != tensors.len() {
        bail!(
            "the program returned {} output(s), {} has {}",
            tensors.len(),
            path.display(),
            golden.outputs.len()
        );
    }
    let mut all_ok = true;
    for (i, (got, want)) in tensors.iter().zip(&golden.outputs).enumerate() {
        let c = trtfx::io::compare(i, got, want, rtol, atol);
        println!(
            "out_{i}: {} max_abs={:.3e} max_rel={:.3e}{}",
            if c.ok { "ok" } else { "MISMATCH" },
            c.max_abs,
            c.max_rel,
            c.detail.map(|d| format!(" ({d})")).unwrap_or_default()
        );
        all_ok &= c.ok;
    }
    Ok(all_ok)
}

/// One input spec as `name: dtype[dims]`, dynamic dims as `sym in min..=max (opt N)`.
fn input_spec(spec: &trtfx::ir::InputSpec) -> String {
    use trtfx::ir::{DimSpec, InputSpec};
    match spec {
        InputSpec::Tensor { name, dtype, dims } => {
            let dims: Vec<String> = dims
                .iter()
                .map(|d| match d {
                    DimSpec::Static(s) => s.to_string(),
                    DimSpec::Dynamic { sym, min, opt, max } => format!(
                        "{} in {min}..={max} (opt {opt})",
                        sym.as_ref().map_or("?".to_string(), |s| s.to_string())
                    ),
                })
                .collect();
            format!("{name}: {dtype}[{}]", dims.join(", "))
        }
        InputSpec::Scalar { name, dtype, range } => {
            let r = match range {
                Some((lo, hi)) => format!(
                    " in {}..={}",
                    lo.map_or(String::new(), |x| x.to_string()),
                    hi.map_or(String::new(), |x| x.to_string())
                ),
                None => String::new(),
            };
            format!("{name}: {dtype} scalar{r}")
        }
    }
}

/// `ir-opt inspect`: the manifest in words.
fn inspect(c: &trtfx::CompiledProgram) -> String {
    use std::fmt::Write as _;
    let m = c.manifest();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "format version {}, written by trtfx {}",
        m.format_version, m.trtfx_version
    );
    let _ = writeln!(
        out,
        "partition: min-block-size {}, fallback-ops [{}], require-full-compilation {}",
        m.partition.min_block_size,
        m.partition.fallback_ops.join(","),
        m.partition.require_full_compilation
    );
    let _ = writeln!(out, "inputs:");
    for spec in &m.inputs {
        let _ = writeln!(out, "  {}", input_spec(spec));
    }
    let _ = writeln!(out, "outputs:");
    for o in &m.outputs {
        let _ = writeln!(out, "  {}: {}", o.name, o.ty);
    }
    if !m.op_libraries.is_empty() {
        let _ = writeln!(out, "op libraries:");
        for l in &m.op_libraries {
            let _ = writeln!(
                out,
                "  {} (from {}): {}",
                l.file,
                l.source,
                l.ops.join(", ")
            );
        }
    }
    let _ = writeln!(out, "segments:");
    for (i, s) in m.segments.iter().enumerate() {
        let _ = write!(
            out,
            "  {i}: {} @{} ({} nodes, {} compute)",
            s.backend, s.graph, s.nodes, s.compute_nodes
        );
        if let Some(n) = &s.network {
            let _ = write!(out, ", network {} layers", n.layers);
        }
        match (&s.plan, &s.plan_skipped) {
            (Some(p), _) => {
                let _ = write!(
                    out,
                    ", plan {} bytes ({}, targets {})",
                    p.bytes,
                    p.tensorrt_version,
                    p.targets.join(",")
                );
            }
            (None, Some(why)) => {
                let _ = write!(out, ", no plan: {why}");
            }
            (None, None) => {}
        }
        if let Some(note) = &s.note {
            let _ = write!(out, " [{note}]");
        }
        let _ = writeln!(out);
    }
    let compute: usize = m.segments.iter().map(|s| s.compute_nodes).sum();
    let on_trt: usize = m
        .segments
        .iter()
        .filter(|s| s.backend == "trt")
        .map(|s| s.compute_nodes)
        .sum();
    let _ = writeln!(
        out,
        "{on_trt}/{compute} compute nodes on TensorRT, {} node(s) not on TensorRT",
        m.unsupported.len()
    );
    out
}
