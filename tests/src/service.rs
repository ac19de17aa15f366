//! Starting a local test service that announces its port on a line of output, as Azurite and
//! moto do when told to listen on port 0.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Which stream the service announces its port on.
pub enum Announces {
    Stdout,
    Stderr,
}

/// Spawns `cmd` and waits (up to 60 s) for a line containing `marker` followed by the port.
/// The stream keeps being drained afterwards, so the service never blocks on a full pipe.
pub fn spawn_and_wait_for_port(
    mut cmd: Command,
    on: Announces,
    marker: &str,
    what: &str,
) -> (Child, u16) {
    match on {
        Announces::Stdout => cmd.stdout(Stdio::piped()).stderr(Stdio::null()),
        Announces::Stderr => cmd.stdout(Stdio::null()).stderr(Stdio::piped()),
    };
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stream: Box<dyn Read + Send> = match on {
        Announces::Stdout => Box::new(child.stdout.take().unwrap()),
        Announces::Stderr => Box::new(child.stderr.take().unwrap()),
    };
    let marker = marker.to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(rest) = line.split(marker.as_str()).nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = tx.send(digits.parse::<u16>().ok());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)).ok().flatten() {
        Some(port) => (child, port),
        None => {
            let _ = child.kill();
            panic!("{what} did not report its port within 60 s")
        }
    }
}
