//! A real SMTP server on 127.0.0.1 for the tests, storing what it accepts and misbehaving
//! on request (refusing a recipient, temporary failures, slowness, size limits).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One accepted message.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// RCPT TO addresses.
    pub(crate) to: Vec<String>,
    /// The message as sent in DATA.
    pub(crate) data: String,
}

/// How the server behaves.
#[derive(Debug, Clone, Default)]
pub(crate) struct Behaviour {
    /// Recipients refused with 550.
    pub(crate) refuse: HashSet<String>,
    /// Answer the first N transactions with 451 (temporary).
    pub(crate) temp_fail_first: usize,
    /// Wait this long before accepting each message.
    pub(crate) delay: Duration,
    /// Close the connection in the middle of DATA for the first N transactions.
    pub(crate) close_in_data_first: usize,
    /// Read the message and never answer.
    pub(crate) hang: bool,
    /// Refuse messages larger than this many bytes with 552 after DATA.
    pub(crate) max_size: Option<usize>,
    /// Offer STARTTLS, then answer the TLS handshake with plain text (a broken TLS setup).
    pub(crate) broken_starttls: bool,
    /// Refuse EHLO and HELO with 504, as Postfix's `reject_non_fqdn_helo_hostname` does.
    pub(crate) refuse_ehlo: bool,
    /// Say `SIZE n` in the EHLO reply (RFC 1870).
    pub(crate) advertise_size: Option<usize>,
}

struct Shared {
    messages: Mutex<Vec<Received>>,
    /// The names given in EHLO/HELO, one per session.
    hellos: Mutex<Vec<String>>,
    /// Sessions opened.
    connections: AtomicUsize,
    /// Messages refused with 552 after DATA for their size.
    size_refusals: AtomicUsize,
    behaviour: Behaviour,
    transactions: AtomicUsize,
    stop: AtomicBool,
}

/// The server; it stops when dropped.
pub(crate) struct Sink {
    /// The port it listens on.
    pub(crate) port: u16,
    shared: Arc<Shared>,
}

impl Sink {
    /// Starts on a free loopback port.
    pub(crate) fn start(behaviour: Behaviour) -> Self {
        Self::start_on(0, behaviour)
    }

    /// Starts on a given port (0: any free one).
    pub(crate) fn start_on(port: u16, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            hellos: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            size_refusals: AtomicUsize::new(0),
            behaviour,
            transactions: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                thread::spawn(move || {
                    let _ = session(stream, &s);
                });
            }
        });
        Self { port, shared }
    }

    /// The messages accepted so far.
    pub(crate) fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// The names clients gave in EHLO/HELO.
    pub(crate) fn hellos(&self) -> Vec<String> {
        self.shared.hellos.lock().unwrap().clone()
    }

    /// How many messages were refused with 552 for their size, after being uploaded.
    pub(crate) fn size_refusals(&self) -> usize {
        self.shared.size_refusals.load(Ordering::SeqCst)
    }

    /// How many sessions were opened.
    pub(crate) fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A port nothing listens on (for "the server is down").
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn session(stream: TcpStream, s: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    let reply =
        |out: &mut TcpStream, text: &str| out.write_all(format!("{text}\r\n").as_bytes());
    s.connections.fetch_add(1, Ordering::SeqCst);
    reply(&mut out, "220 kkr-test ESMTP")?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let name = cmd.get(5..).unwrap_or("").trim().to_owned();
            s.hellos.lock().unwrap().push(name);
        }
        if (upper.starts_with("EHLO") || upper.starts_with("HELO"))
            && s.behaviour.refuse_ehlo
        {
            reply(
                &mut out,
                "504 5.5.2 <vm>: Helo command rejected: need fully-qualified hostname",
            )?;
        } else if upper.starts_with("EHLO") && s.behaviour.broken_starttls {
            reply(&mut out, "250-kkr-test\r\n250-STARTTLS\r\n250 8BITMIME")?;
        } else if upper == "STARTTLS" && s.behaviour.broken_starttls {
            reply(&mut out, "220 2.0.0 ready to start TLS")?;
            reply(&mut out, "this is not a TLS handshake")?;
            return Ok(());
        } else if upper.starts_with("EHLO") {
            match s.behaviour.advertise_size {
                Some(n) => reply(
                    &mut out,
                    &format!(
                        "250-kkr-test\r\n250-8BITMIME\r\n250-SIZE {n}\r\n250 SMTPUTF8"
                    ),
                )?,
                None => reply(&mut out, "250-kkr-test\r\n250-8BITMIME\r\n250 SMTPUTF8")?,
            }
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            reply(&mut out, "250 ok")?;
        } else if upper.starts_with("MAIL FROM") {
            let n = s.transactions.fetch_add(1, Ordering::SeqCst);
            if n < s.behaviour.temp_fail_first {
                reply(&mut out, "451 4.3.0 try again later")?;
            } else {
                to.clear();
                reply(&mut out, "250 ok")?;
            }
        } else if upper.starts_with("RCPT TO") {
            let addr = cmd[8..]
                .trim()
                .trim_start_matches(':')
                .trim()
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or("")
                .to_owned();
            if s.behaviour.refuse.contains(&addr) {
                reply(&mut out, "550 5.1.1 no such user")?;
            } else {
                to.push(addr);
                reply(&mut out, "250 ok")?;
            }
        } else if upper == "DATA" {
            reply(&mut out, "354 go ahead")?;
            let n = s.transactions.load(Ordering::SeqCst);
            if n <= s.behaviour.close_in_data_first {
                // Read a little of the message, then drop the connection.
                line.clear();
                lines.read_line(&mut line)?;
                return Ok(());
            }
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(
                    line.strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line),
                );
            }
            thread::sleep(s.behaviour.delay);
            if s.behaviour.max_size.is_some_and(|max| data.len() > max) {
                s.size_refusals.fetch_add(1, Ordering::SeqCst);
                reply(&mut out, "552 5.3.4 message size exceeds fixed maximum")?;
                continue;
            }
            if s.behaviour.hang {
                thread::sleep(Duration::from_secs(3600));
                return Ok(());
            }
            s.messages.lock().unwrap().push(Received { to: to.clone(), data });
            reply(&mut out, "250 2.0.0 queued")?;
        } else if upper == "RSET" {
            to.clear();
            reply(&mut out, "250 ok")?;
        } else if upper == "QUIT" {
            reply(&mut out, "221 bye")?;
            return Ok(());
        } else {
            reply(&mut out, "502 not implemented")?;
        }
    }
}
