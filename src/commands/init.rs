//! `sandlint init [DIR]`: writes hardened sandbox configs (see `src/init/`). Never overwrites
//! unless `--force`; `--dry-run` prints the files instead of writing them.

use std::io::{self, Write};

use crate::cli::InitArgs;
use crate::error::{ExitStatus, UsageError};
use crate::init::{self, Extra, Options, PlannedFile};
use crate::source::display_path;

pub fn init(
    args: &InitArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    if let Some(image) = &args.base_image {
        init::validate_base_image(image).map_err(UsageError::new)?;
    }
    let opts = Options {
        template: args.template,
        base_image: args.base_image.clone(),
        extras: args.with.clone(),
    };
    let files = init::plan(&opts);
    let dir_shown = display_path(&args.dir);

    if args.dir.exists() && !args.dir.is_dir() {
        return Err(UsageError::new(format!(
            "{dir_shown} exists and is not a directory"
        )));
    }
    let existing = init::conflicts(&args.dir, &files);
    if !existing.is_empty() && !args.force {
        let mut msg = format!(
            "error: these files already exist in {dir_shown}; nothing was written (use --force to overwrite them):\n"
        );
        for path in &existing {
            msg.push_str(&format!("  {path}\n"));
        }
        stderr
            .write_all(msg.as_bytes())
            .map_err(|e| UsageError::new(format!("cannot write output: {e}")))?;
        return Ok(ExitStatus::Error);
    }

    if let Some(image) = &args.base_image
        && !init::is_digest_pinned(image)
    {
        let _ = writeln!(
            stderr,
            "warning: --base-image `{image}` is not pinned by digest; pin it as IMAGE@sha256:<digest> \
             (the generated Dockerfiles say how)"
        );
    }

    let result = if args.dry_run {
        dry_run(&dir_shown, &files, &existing, stdout)
    } else {
        let replaced = init::write(&args.dir, &files, args.force)
            .map_err(|e| UsageError::new(e.to_string()))?;
        report(&dir_shown, &files, &replaced, &opts, stdout)
    };
    match result {
        Ok(()) => Ok(ExitStatus::Success),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitStatus::Success),
        Err(e) => Err(UsageError::new(format!("cannot write output: {e}"))),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `--dry-run`: the list, then every file's contents.
fn dry_run(
    dir: &str,
    files: &[PlannedFile],
    existing: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "dry run: would write {} file{} in {dir} (nothing was written):",
        files.len(),
        plural(files.len())
    )?;
    for f in files {
        let note = if existing.iter().any(|e| e == f.path) {
            " (overwrite)"
        } else {
            ""
        };
        writeln!(out, "  {}{note}", f.path)?;
    }
    for f in files {
        writeln!(out, "\n==> {} <==", f.path)?;
        out.write_all(f.contents.as_bytes())?;
    }
    Ok(())
}

/// After writing: the files and the next steps.
fn report(
    dir: &str,
    files: &[PlannedFile],
    replaced: &[bool],
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "wrote {} file{} in {dir}:",
        files.len(),
        plural(files.len())
    )?;
    for (f, was) in files.iter().zip(replaced) {
        let note = if *was { " (overwritten)" } else { "" };
        writeln!(out, "  {}{note}", f.path)?;
    }
    writeln!(out, "\nnext steps:")?;
    if dir != "." {
        writeln!(out, "  cd {dir}")?;
    }
    let uid = init::UID;
    let steps: Vec<(String, &str)> = vec![
        (
            "sandlint check .".to_string(),
            "lint them (preset = \"sandbox\")",
        ),
        (
            format!("sudo chown {uid}:{uid} workspace output"),
            "Linux: let the containers' user write there",
        ),
        ("docker compose build".to_string(), "build both images"),
        (
            format!(
                "docker compose run --rm sandbox {}",
                opts.template.example_cmd()
            ),
            "run code in the sandbox",
        ),
    ];
    let mut steps = steps;
    if opts.extras.contains(&Extra::PreCommit) {
        steps.push(("pre-commit install".to_string(), "check on every commit"));
    }
    if opts.extras.contains(&Extra::Devcontainer) {
        steps.push((
            "devcontainer up --workspace-folder .".to_string(),
            "the sandbox as a dev container (no network)",
        ));
    }
    if opts.extras.contains(&Extra::Guard) {
        steps.push((
            "sudo chown 10002:10001 guard-socket".to_string(),
            "Linux: let the guard create its socket there",
        ));
        steps.push((
            "DOCKER_GID=$(stat -c %g /var/run/docker.sock) docker compose -f compose.guard.yaml up"
                .to_string(),
            "the agent with a guarded Docker socket",
        ));
    }
    let width = steps.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    for (cmd, why) in &steps {
        writeln!(out, "  {cmd:<width$}  # {why}")?;
    }
    Ok(())
}
