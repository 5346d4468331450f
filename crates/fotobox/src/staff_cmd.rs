//! `fotobox staff …`: the staff panel's PIN from the command line.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Result};
use clap::Subcommand;
use fotobox_core::{panel, AppContext, Config};

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Set the panel PIN (4-12 digits, read from standard input; stored only as an argon2 hash).
    SetPin,
    /// Print the argon2 hash of a PIN read from standard input (for config `[staff] pin_hash`).
    HashPin,
}

fn read_pin() -> Result<String> {
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let line = |prompt: &str| -> Result<String> {
        if interactive {
            write!(std::io::stderr(), "{prompt}")?;
            std::io::stderr().flush()?;
        }
        let mut s = String::new();
        stdin.lock().read_line(&mut s)?;
        Ok(s.trim().to_string())
    };
    let pin = line("New staff PIN (4-12 digits): ")?;
    if interactive && line("Repeat it: ")? != pin {
        bail!("the two PINs differ; nothing was changed");
    }
    if let Err(e) = panel::validate_pin(&pin) {
        bail!("{e}");
    }
    Ok(pin)
}

pub async fn run(cfg: Config, command: StaffCommand) -> Result<()> {
    match command {
        StaffCommand::HashPin => {
            let pin = read_pin()?;
            let hash = panel::hash_pin(&pin)?;
            writeln!(std::io::stdout(), "{hash}")?;
        }
        StaffCommand::SetPin => {
            let pin = read_pin()?;
            let ctx = AppContext::new(cfg).await?;
            let result = panel::set_pin(&ctx, &pin, "cli").await;
            ctx.store.close().await;
            result?;
            writeln!(std::io::stdout(), "staff PIN set")?;
        }
    }
    Ok(())
}
