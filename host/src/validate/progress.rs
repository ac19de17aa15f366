//! Progress of the tables being compared: on a terminal, a bar per table redrawn in place; in a
//! log, a line per table each time it passes a quarter.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::capabilities::progress::ProgressSink;

/// The tables in flight and how far each is.
pub struct Board {
    tty: bool,
    state: Mutex<BoardState>,
}

#[derive(Default)]
struct BoardState {
    /// table → (done, total, message).
    active: BTreeMap<String, (u64, u64, String)>,
    /// Lines drawn last time (to move back over them).
    drawn: usize,
    /// table → the last quarter logged.
    logged: BTreeMap<String, u64>,
}

impl Board {
    /// A board drawing bars when `tty`, logging lines otherwise.
    pub fn new(tty: bool) -> Arc<Board> {
        Arc::new(Board {
            tty,
            state: Mutex::new(BoardState::default()),
        })
    }

    /// The sink for one table's hook call.
    pub fn sink(self: &Arc<Self>, table: &str) -> Arc<dyn ProgressSink> {
        Arc::new(TableSink {
            board: self.clone(),
            table: table.to_string(),
        })
    }

    /// The table is done: its bar goes, a final line stays.
    pub fn finish(&self, table: &str, line: &str) {
        let mut s = self.state.lock().unwrap();
        s.active.remove(table);
        s.logged.remove(table);
        if self.tty {
            self.redraw(&mut s, Some(line));
        } else {
            eprintln!("  {line}");
        }
    }

    fn update(&self, table: &str, done: u64, total: Option<u64>, message: &str) {
        let mut s = self.state.lock().unwrap();
        let total = total.unwrap_or(0);
        s.active
            .insert(table.to_string(), (done, total, message.to_string()));
        if self.tty {
            self.redraw(&mut s, None);
            return;
        }
        let quarter = (done * 4).checked_div(total).unwrap_or(0);
        let last = s.logged.get(table).copied();
        if last.is_none_or(|q| quarter > q) {
            s.logged.insert(table.to_string(), quarter);
            eprintln!("  {table}: {}% — {message}", quarter * 25);
        }
    }

    /// Moves back over the bars drawn last, prints `line` (if any) above, then the bars.
    fn redraw(&self, s: &mut BoardState, line: Option<&str>) {
        let mut err = std::io::stderr().lock();
        if s.drawn > 0 {
            let _ = write!(err, "\x1b[{}A", s.drawn);
        }
        let _ = write!(err, "\x1b[J");
        if let Some(l) = line {
            let _ = writeln!(err, "  {l}");
        }
        for (table, (done, total, _)) in &s.active {
            let filled = (done * 20).checked_div(*total).unwrap_or(0).min(20) as usize;
            let pct = (done * 100).checked_div(*total).unwrap_or(0).min(100);
            let _ = writeln!(
                err,
                "  {table:<40} [{}{}] {pct:>3}%",
                "#".repeat(filled),
                ".".repeat(20 - filled)
            );
        }
        s.drawn = s.active.len();
        let _ = err.flush();
    }
}

struct TableSink {
    board: Arc<Board>,
    table: String,
}

impl ProgressSink for TableSink {
    fn report(&self, _plugin: &str, done: u64, total: Option<u64>, message: &str) {
        self.board.update(&self.table, done, total, message);
    }
}
