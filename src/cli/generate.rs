//! `coldctr completions SHELL` and `coldctr man [COMMAND]`: shell completions and a man page,
//! both generated from the clap definition, so they always match the flags.

use super::{Failure, Outcome};
use clap::{Args, CommandFactory};
use std::io::Write;

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete for; e.g. `coldctr completions bash > /etc/bash_completion.d/coldctr`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args)]
pub struct ManArgs {
    /// A command's own page (e.g. `gc`, `bolt`, `bolt dump`) instead of the main page.
    pub command: Vec<String>,
}

pub fn completions(args: CompletionsArgs, out: &mut dyn Write) -> Result<super::Outcome, Failure> {
    let mut cmd = super::Cli::command();
    // Rendered into memory first: the generator cannot report a write error (a closed pipe).
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "coldctr", &mut buf);
    out.write_all(&buf)?;
    Ok(Outcome::Ok)
}

pub fn man(args: ManArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let mut cmd = super::Cli::command();
    cmd.build();
    let mut name = String::from("coldctr");
    // As typed (`coldctr bolt`), where the page's title is `coldctr-bolt`.
    let mut typed = name.clone();
    for word in &args.command {
        let Some(sub) = cmd.find_subcommand(word).cloned() else {
            // An unknown command is a bad command line, as `coldctr help nosuch` says it.
            return Err(Failure::new(
                Outcome::Usage,
                format!(
                    "no command {} under `{typed}` (see `{typed} --help`)",
                    crate::text::one_line(&format!("{word:?}"))
                ),
            ));
        };
        name = format!("{name}-{}", sub.get_name());
        typed = format!("{typed} {}", sub.get_name());
        cmd = sub.version(super::VERSION);
    }
    let mut buf = Vec::new();
    // The source is the program's, on every page (clap_mangen's default names the page's own
    // command: "dump 0.1.0").
    clap_mangen::Man::new(cmd)
        .title(name)
        .source(format!("coldctr {}", super::VERSION))
        .render(&mut buf)?;
    out.write_all(&buf)?;
    Ok(Outcome::Ok)
}
