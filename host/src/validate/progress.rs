//! Progress of the tables being compared: on a terminal, a bar per table (indicatif, through
//! [`crate::terminal`]) with each table's final line printed above them; in a log, a line per
//! table each time it passes a quarter.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use indicatif::{MultiProgress, ProgressBar};

use crate::capabilities::progress::ProgressSink;
use crate::terminal;

/// The tables in flight and how far each is.
pub struct Board {
    /// Drawn on a terminal; hidden in a log (the quarter lines are printed instead).
    bars: MultiProgress,
    state: Mutex<BoardState>,
}

#[derive(Default)]
struct BoardState {
    /// table → its bar, on a terminal.
    active: BTreeMap<String, ProgressBar>,
    /// table → the last quarter logged, in a log.
    logged: BTreeMap<String, u64>,
}

impl Board {
    /// A board drawing bars on a terminal (unless `quiet`), logging lines otherwise.
    pub fn new(quiet: bool) -> Arc<Board> {
        Arc::new(Board {
            bars: terminal::multi(quiet),
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
        s.logged.remove(table);
        if let Some(bar) = s.active.remove(table) {
            bar.finish_and_clear();
        }
        if self.bars.is_hidden() {
            eprintln!("  {line}");
        } else {
            let _ = self.bars.println(format!("  {line}"));
        }
    }

    fn update(&self, table: &str, done: u64, total: Option<u64>, message: &str) {
        let mut s = self.state.lock().unwrap();
        let total = total.unwrap_or(0);
        if !self.bars.is_hidden() {
            let bar = s.active.entry(table.to_string()).or_insert_with(|| {
                let bar = self.bars.add(terminal::counter(total, terminal::TABLE));
                bar.set_prefix(table.to_string());
                bar
            });
            bar.set_length(total);
            bar.set_position(done);
            return;
        }
        let quarter = (done * 4).checked_div(total).unwrap_or(0);
        let last = s.logged.get(table).copied();
        if last.is_none_or(|q| quarter > q) {
            s.logged.insert(table.to_string(), quarter);
            eprintln!("  {table}: {}% — {message}", quarter * 25);
        }
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
