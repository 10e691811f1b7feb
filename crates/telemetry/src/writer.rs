//! Log lines gathered in memory and written by a thread of their own.
//!
//! A proxy logs every request. Writing each line to stdout as it is made
//! costs the serving thread one `write` call a request; handing each line
//! to a waiting thread costs a wake-up instead (a futex call on each side:
//! measured worse). Here a line is appended to a shared buffer under a
//! lock, and a writer thread takes the whole buffer every [`FLUSH_EVERY`]
//! and writes it in one call — nginx's `access_log … buffer= flush=`. A
//! buffer that reaches [`FLUSH_AT`] is written at once by the thread that
//! filled it, so memory stays bounded and no line is dropped. Lines still
//! in the buffer when the process exits without unwinding are lost (at
//! most one interval's).

use std::io::{self, Write};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How often the writer thread writes what has gathered.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// A buffer this full is written at once by the thread that filled it.
pub const FLUSH_AT: usize = 256 * 1024;

type Sink = Box<dyn Write + Send>;

struct Shared {
    pending: Mutex<Vec<u8>>,
    out: Mutex<Sink>,
}

impl Shared {
    /// Appends `line`; writes everything out when the buffer is full.
    fn push(&self, line: &[u8]) {
        let full = {
            let Ok(mut pending) = self.pending.lock() else {
                return;
            };
            pending.extend_from_slice(line);
            (pending.len() >= FLUSH_AT).then(|| std::mem::take(&mut *pending))
        };
        if let Some(full) = full {
            self.write(&full);
        }
    }

    /// Writes whatever has gathered.
    fn flush(&self) {
        let gathered = match self.pending.lock() {
            Ok(mut pending) if !pending.is_empty() => {
                std::mem::replace(&mut *pending, Vec::with_capacity(64 * 1024))
            }
            _ => return,
        };
        self.write(&gathered);
    }

    fn write(&self, bytes: &[u8]) {
        if let Ok(mut out) = self.out.lock() {
            // A log line that cannot be written has nowhere better to go.
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
    }
}

/// The writer for `tracing_subscriber`: each event's line goes into the
/// shared buffer whole, so lines from different threads never interleave.
#[derive(Clone)]
pub struct Buffered(Arc<Shared>);

impl std::fmt::Debug for Buffered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buffered").finish_non_exhaustive()
    }
}

impl Buffered {
    /// Gathers lines for `out`, written every `every` by a thread that
    /// ends once every `Buffered` is gone; what is left is written then.
    pub fn spawn(out: impl Write + Send + 'static, every: Duration) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Vec::with_capacity(64 * 1024)),
            out: Mutex::new(Box::new(out)),
        });
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("log writer".into())
            .spawn(move || write_every(&weak, every))?;
        Ok(Self(shared))
    }

    /// Writes whatever has gathered now.
    pub fn flush(&self) {
        self.0.flush();
    }
}

impl Drop for Shared {
    /// Whoever lets go last (a `Buffered` or the writer thread mid-write)
    /// writes what is left.
    fn drop(&mut self) {
        self.flush();
    }
}

fn write_every(shared: &Weak<Shared>, every: Duration) {
    loop {
        std::thread::sleep(every);
        match shared.upgrade() {
            Some(shared) => shared.flush(),
            None => return,
        }
    }
}

/// One event's line, added to the buffer when the formatter is done.
pub struct Line<'a> {
    text: Vec<u8>,
    shared: &'a Shared,
}

impl std::fmt::Debug for Line<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Line")
            .field("bytes", &self.text.len())
            .finish()
    }
}

impl Write for Line<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        if !self.text.is_empty() {
            self.shared.push(&self.text);
        }
    }
}

impl<'a> MakeWriter<'a> for Buffered {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line {
            text: Vec::with_capacity(512),
            shared: &self.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Records each `write` call it gets.
    #[derive(Clone, Default)]
    struct Calls(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Write for Calls {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().push(bytes.to_vec());
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Calls {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().concat()).unwrap()
        }

        fn count(&self) -> usize {
            self.0.lock().unwrap().len()
        }
    }

    /// A writer thread that would not write within the test on its own.
    const NEVER: Duration = Duration::from_secs(3600);

    #[test]
    fn a_line_goes_out_whole_within_an_interval() {
        let calls = Calls::default();
        let buffered = Buffered::spawn(calls.clone(), Duration::from_millis(10)).unwrap();
        {
            let mut line = buffered.make_writer();
            line.write_all(b"{\"a\":").unwrap();
            line.write_all(b"1}\n").unwrap();
            // Nothing goes out while the formatter still holds the line.
            std::thread::sleep(Duration::from_millis(40));
            assert_eq!(calls.text(), "");
        }
        let started = Instant::now();
        while calls.text() != "{\"a\":1}\n" {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{:?}",
                calls.text()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn lines_gathered_between_writes_leave_in_one_write_in_order() {
        let calls = Calls::default();
        let buffered = Buffered::spawn(calls.clone(), NEVER).unwrap();
        for n in 0..100 {
            writeln!(buffered.make_writer(), "line {n}").unwrap();
        }
        assert_eq!(calls.count(), 0);
        buffered.flush();
        let expected: String = (0..100).map(|n| format!("line {n}\n")).collect();
        assert_eq!(calls.text(), expected);
        assert_eq!(calls.count(), 1);
    }

    #[test]
    fn a_full_buffer_is_written_at_once_and_the_rest_when_the_last_writer_goes() {
        let calls = Calls::default();
        let buffered = Buffered::spawn(calls.clone(), NEVER).unwrap();
        let line = format!("{}\n", "x".repeat(1023));
        for _ in 0..FLUSH_AT / line.len() {
            buffered.make_writer().write_all(line.as_bytes()).unwrap();
        }
        // Exactly full: written by the thread that filled it.
        assert_eq!(calls.count(), 1);
        buffered.make_writer().write_all(b"last\n").unwrap();
        let copy = buffered.clone();
        drop(buffered);
        assert_eq!(calls.count(), 1, "a clone is still logging");
        drop(copy);
        assert_eq!(calls.count(), 2);
        assert!(calls.text().ends_with("x\nlast\n"));
        assert_eq!(calls.text().len(), FLUSH_AT + 5);
    }

    #[test]
    fn lines_from_many_threads_never_interleave() {
        let calls = Calls::default();
        let buffered = Buffered::spawn(calls.clone(), Duration::from_millis(1)).unwrap();
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let buffered = &buffered;
                scope.spawn(move || {
                    for n in 0..500 {
                        let mut line = buffered.make_writer();
                        write!(line, "thread {thread} ").unwrap();
                        writeln!(line, "line {n}").unwrap();
                    }
                });
            }
        });
        drop(buffered);
        let text = calls.text();
        assert_eq!(text.lines().count(), 2000);
        for line in text.lines() {
            let words: Vec<&str> = line.split(' ').collect();
            assert_eq!(words.len(), 4, "{line:?}");
            assert_eq!((words[0], words[2]), ("thread", "line"), "{line:?}");
        }
    }
}
