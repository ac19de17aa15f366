//! A plugin that misbehaves in the way the `validate` request names, so the tests can prove each
//! failure stays inside its own hook.

use serde_json::json;
use sqlmig_plugin_sdk::{Error, Validator, export_validator, invalid_input, sql};

struct Hostile;

impl Validator for Hostile {
    fn validate(request: &str) -> Result<String, Error> {
        match request {
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    let mut chunk = vec![0u8; 16 * 1024 * 1024];
                    chunk[0] = 1;
                    hoard.push(std::hint::black_box(chunk));
                }
            }
            "panic" => panic!("hostile plugin panics on purpose"),
            "escape" => Ok(escape_attempts()),
            "ungranted" => {
                // Its manifest asks for no SQL endpoint.
                let conn = sql::connect("source")?;
                conn.execute("DROP DATABASE Sales", &[])?;
                Ok("dropped".into())
            }
            other => Err(invalid_input(format!("unknown misbehaviour '{other}'"))),
        }
    }
}

/// Tries every way out of the sandbox a WASI program has and reports what happened.
fn escape_attempts() -> String {
    let socket = match std::net::TcpStream::connect("127.0.0.1:22") {
        Ok(_) => "connected".to_string(),
        Err(e) => format!("refused: {e}"),
    };
    let file = match std::fs::read("/etc/passwd") {
        Ok(b) => format!("read {} bytes", b.len()),
        Err(e) => format!("refused: {e}"),
    };
    let write = match std::fs::write("/tmp/sqlmig-hostile-was-here", b"x") {
        Ok(()) => "wrote".to_string(),
        Err(e) => format!("refused: {e}"),
    };
    let env: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    let args: Vec<String> = std::env::args().collect();
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("refused: {e}"));
    println!("this goes nowhere");
    json!({"socket": socket, "file": file, "write": write, "env": env, "args": args, "cwd": cwd})
        .to_string()
}

export_validator!(Hostile);
