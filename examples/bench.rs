//! The benchmark suite (not a test): `cargo run --release --example bench [SECTION…]` or
//! `scripts/bench.sh`. Prints markdown tables for BENCHMARKS.md.
//!
//! 1. agenda render, 20 items: in-process cold / warm / one item changed, against the Typst
//!    compiler as a separate process on the same template and JSON (python `typst`);
//! 2. drop → draft latency in the running daemon;
//! 3. agenda to every recipient through an SMTP server on 127.0.0.1;
//! 4. memory: the daemon's RSS over a simulated year of changes;
//! 5. archive rebuild: 5 councils × 5 meetings × 4 years, both cores, with a progress bar;
//! 6. the same through the user's command, `kkr publish --alle`, on real ledgers;
//! 7. the agenda to 62 recipients through one local SMTP server, kkr against Python's
//!    smtplib sending the same pre-built messages (`scripts/bench_smtplib.py`). With
//!    `KKR_BENCH_WRAP` set to a command (e.g. `perf record -g -o kkr.perf`), the first
//!    round's kkr runs under it, to profile exactly the run that is timed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use kkr::clock::{self, Clock};
use kkr::daemon::Council;
use kkr::edition::{self, DocData, DocInput, Entry};
use kkr::item::{Decision, Item};
use kkr::kind::{DocKind, Edition};
use kkr::render::Renderer;
use kkr::workspace::Workspace;

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/cli/smtp.rs"]
mod smtp;

#[path = "../tests/cli/example.rs"]
mod example;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A field of /proc/self/status in MiB (Linux).
fn proc_mib(field: &str) -> f64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok());
    kb.unwrap_or(0.0) / 1024.0
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let name = e.file_name();
        if name == "behandlet" || name == "afvist" || name == ".work" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

fn age_all(dir: &Path) {
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for e in fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            age_all(&e.path());
        } else {
            let f = fs::File::options().write(true).open(e.path()).unwrap();
            f.set_modified(old).unwrap();
        }
    }
}

/// The example workspace in a temporary folder, with 8 more items (20 in all).
fn workspace(extra_config: &str) -> (tempfile::TempDir, Workspace) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let config = fs::read_to_string(repo.join("council.toml")).unwrap() + extra_config;
    fs::write(dir.path().join("council.toml"), config).unwrap();
    fs::copy(repo.join("members.csv"), dir.path().join("members.csv")).unwrap();
    example::copy_inbox(&repo.join("inbox"), &dir.path().join("inbox"));
    for k in 0..8 {
        let prefix = format!("{:02}-", k + 2);
        let src = fs::read_dir(dir.path().join("inbox"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&prefix))
            .unwrap();
        let text = fs::read_to_string(src).unwrap();
        let text = text
            .replacen("id = \"2027-01-28-", &format!("id = \"2027-01-28-ekstra{k}-"), 1)
            .replacen("order = ", &format!("order = 1{k}"), 1)
            .replace("[\"bilag/fordeling-praktikpladser-2027.pdf\"]", "[]");
        fs::write(dir.path().join(format!("inbox/ekstra-{k}.md")), text).unwrap();
    }
    age_all(&dir.path().join("inbox"));
    let ws = Workspace::new(dir.path());
    (dir, ws)
}

/// A council that has taken in the 20-item example.
fn council(ws: &Workspace) -> (Council, jiff::Timestamp) {
    let start = clock::parse_now("2027-01-10T09:00").unwrap().timestamp();
    let mut council =
        Council::open(ws.clone(), Clock::starting_at(start), false).unwrap();
    council.pass(&Default::default()).unwrap();
    (council, start)
}

fn items(council: &Council) -> Vec<Item> {
    let meeting = jiff::civil::date(2027, 1, 28);
    let plan = kkr::document::plan(&council.ledger, meeting).unwrap();
    plan.list.into_iter().map(|(s, _)| s.item).filter(|i| !i.withdrawn).collect()
}

/// The data of a document from a list of items.
fn data(
    council: &kkr::config::Council,
    m: &kkr::config::MeetingConfig,
    items: &[Item],
    kind: DocKind,
    edition: Edition,
    at: jiff::Timestamp,
) -> DocData {
    edition::build(&DocInput {
        council,
        meeting: m,
        entries: items
            .iter()
            .enumerate()
            .map(|(i, item)| Entry { item, status: "", number: i + 1 })
            .collect(),
        attendance: None,
        kind,
        edition,
        note: String::new(),
        changed_at: at,
        approved: None,
    })
}

/// Samples per warm case: a render takes ~20 ms, and on a shared machine a median of many
/// samples is steadier than one of a few.
const WARM_RUNS: usize = 41;

fn render_bench(html: bool) {
    println!("## 1. Agenda render (20 items, one attachment)\n");
    let (_dir, ws) = workspace("");
    let (council, start) = council(&ws);
    let m = council.config.meetings[0].clone();
    let c = council.config.council.clone();
    let mut items = items(&council);
    assert_eq!(items.len(), 20);
    let agenda = data(&c, &m, &items, DocKind::Agenda, Edition::Member, start);
    let t = Instant::now();
    let mut renderer = Renderer::new(None, vec![ws.attachments()]);
    let pdf = renderer.render(&agenda).unwrap();
    let cold = ms(t.elapsed());
    let same: Vec<f64> = (0..WARM_RUNS)
        .map(|_| {
            let t = Instant::now();
            renderer.render(&agenda).unwrap();
            ms(t.elapsed())
        })
        .collect();
    let changed: Vec<f64> = (0..WARM_RUNS)
        .map(|k| {
            items[5].title =
                format!("Kapacitet på de gymnasiale uddannelser, version {k}");
            let d = data(&c, &m, &items, DocKind::Agenda, Edition::Member, start);
            let t = Instant::now();
            renderer.render(&d).unwrap();
            ms(t.elapsed())
        })
        .collect();
    // A realistic edit: the recommendation grows or shrinks by a few lines, so this item's
    // height changes and every later item moves.
    let base = items[5].recommendation.clone();
    let grown: Vec<f64> = (0..WARM_RUNS)
        .map(|k| {
            let more = " Sekretariatet følger op på sagen og orienterer kontaktrådet om resultatet.";
            items[5].recommendation = format!("{base} (ændring {k}){}", more.repeat(k % 5 * 3));
            let d = data(&c, &m, &items, DocKind::Agenda, Edition::Member, start);
            let t = Instant::now();
            renderer.render(&d).unwrap();
            ms(t.elapsed())
        })
        .collect();
    items[5].recommendation = base;
    let warm = median(changed);
    let grown = median(grown);
    let same = median(same);
    println!("PDF: {} KiB\n", pdf.len() / 1024);
    println!("| case | median ms | × kkr warm (changed) |\n|---|---|---|");
    println!(
        "| kkr in-process, first render (fonts, parse, layout, export) | {cold:.0} | {:.1} |",
        cold / warm
    );
    println!("| kkr warm, identical input | {same:.0} | {:.1} |", same / warm);
    println!("| kkr warm, one item's title changed | {warm:.0} | 1.0 |");
    println!(
        "| kkr warm, one item's text grew or shrank (later items move) | {grown:.0} | {:.1} |",
        grown / warm
    );

    // The same template and data as files, for the Typst compiler as its own process.
    let root = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["agenda.typ", "common.typ"] {
        fs::copy(repo.join("templates").join(name), root.path().join(name)).unwrap();
    }
    for (path, bytes) in &agenda.files {
        let p = root.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes.as_slice()).unwrap();
    }
    copy_dir(&ws.attachments(), &root.path().join("attachments"));
    let script = format!(
        "import typst\ntypst.compile('{0}/agenda.typ', output='{0}/out.pdf', root='{0}', font_paths=[], ignore_system_fonts=True, pdf_standards=['a-2b','ua-1'])\n",
        root.path().display()
    );
    let mut cli = Vec::new();
    for _ in 0..11 {
        let t = Instant::now();
        let ok = Command::new("python3")
            .args(["-c", &script])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            println!(
                "| Typst compiler as a separate process | not available (`pip install typst`) | |\n"
            );
            return;
        }
        cli.push(ms(t.elapsed()));
    }
    let cli = median(cli);
    println!(
        "| Typst compiler as a separate process (python `typst` 0.15), same template and JSON | {cli:.0} | {:.1} |",
        cli / warm
    );

    if !html {
        println!();
        return;
    }
    // The same agenda as one HTML document (same text, tables, contents, page numbers and
    // attachment pages), for the HTML converters a secretariat could use instead.
    // WeasyPrint takes most of a minute per vector attachment page, so it runs once on the
    // whole agenda and three times on the agenda without its attachment pages.
    for (pages, what, weasy_runs) in
        [(true, "whole agenda", 1), (false, "without the attachment pages", 3)]
    {
        let page = root.path().join(format!("dagsorden-{pages}.html"));
        fs::write(&page, html_agenda(&c, &m, &items, &ws.attachments(), pages)).unwrap();
        let converters: [(&str, &str, Vec<String>, usize); 2] = [
            (
                "WeasyPrint 57",
                "weasyprint",
                vec![
                    page.display().to_string(),
                    root.path().join("w.pdf").display().to_string(),
                ],
                weasy_runs,
            ),
            (
                "LibreOffice 7.4 headless",
                "soffice",
                vec![
                    "--headless".into(),
                    "--convert-to".into(),
                    "pdf:writer_web_pdf_Export".into(),
                    "--outdir".into(),
                    root.path().join("lo").display().to_string(),
                    page.display().to_string(),
                ],
                3,
            ),
        ];
        for (name, program, args, runs) in converters {
            let label =
                format!("{name}, the same agenda as HTML ({what}; no PDF/A, no tagging)");
            let mut times = Vec::new();
            for _ in 0..runs {
                let t = Instant::now();
                let ok = Command::new(program)
                    .args(&args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if !ok {
                    times.clear();
                    break;
                }
                times.push(ms(t.elapsed()));
            }
            if times.is_empty() {
                println!("| {label} | not available (`{program}`) | |");
            } else {
                let t = median(times);
                println!("| {label} | {t:.0} | {:.1} |", t / warm);
            }
        }
    }
    println!();
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn inlines_html(inlines: &[kkr::markdown::Inline], out: &mut String) {
    use kkr::markdown::Inline;
    for i in inlines {
        match i {
            Inline::Text { text } => out.push_str(&esc(text)),
            Inline::Code { text } => out.push_str(&format!("<code>{}</code>", esc(text))),
            Inline::Linebreak => out.push_str("<br>"),
            Inline::Strong { inlines }
            | Inline::Emph { inlines }
            | Inline::Strike { inlines } => {
                let tag = match i {
                    Inline::Strong { .. } => "strong",
                    Inline::Emph { .. } => "em",
                    _ => "s",
                };
                out.push_str(&format!("<{tag}>"));
                inlines_html(inlines, out);
                out.push_str(&format!("</{tag}>"));
            }
            Inline::Link { url, inlines } => {
                out.push_str(&format!("<a href=\"{}\">", esc(url)));
                inlines_html(inlines, out);
                out.push_str("</a>");
            }
        }
    }
}

fn blocks_html(blocks: &[kkr::markdown::Block], out: &mut String) {
    use kkr::markdown::Block;
    for b in blocks {
        match b {
            Block::Heading { level, inlines } => {
                let h = (*level + 2).min(6);
                out.push_str(&format!("<h{h}>"));
                inlines_html(inlines, out);
                out.push_str(&format!("</h{h}>"));
            }
            Block::Paragraph { inlines } => {
                out.push_str("<p>");
                inlines_html(inlines, out);
                out.push_str("</p>");
            }
            Block::List { ordered, items, .. } => {
                let tag = if *ordered { "ol" } else { "ul" };
                out.push_str(&format!("<{tag}>"));
                for item in items {
                    out.push_str("<li>");
                    blocks_html(item, out);
                    out.push_str("</li>");
                }
                out.push_str(&format!("</{tag}>"));
            }
            Block::Quote { blocks } => {
                out.push_str("<blockquote>");
                blocks_html(blocks, out);
                out.push_str("</blockquote>");
            }
            Block::Code { text } => out.push_str(&format!("<pre>{}</pre>", esc(text))),
            Block::Table { header, rows, .. } => {
                out.push_str("<table><tr>");
                for cell in header {
                    out.push_str("<th>");
                    inlines_html(cell, out);
                    out.push_str("</th>");
                }
                out.push_str("</tr>");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        out.push_str("<td>");
                        inlines_html(cell, out);
                        out.push_str("</td>");
                    }
                    out.push_str("</tr>");
                }
                out.push_str("</table>");
            }
            Block::Rule => out.push_str("<hr>"),
        }
    }
}

/// The agenda as one HTML page with print CSS: cover, contents with page numbers, every
/// item (Markdown body as HTML) and, with `pages`, the attachment's pages as SVG images.
fn html_agenda(
    c: &kkr::config::Council,
    m: &kkr::config::MeetingConfig,
    items: &[Item],
    attachments: &Path,
    pages: bool,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "<!doctype html><html lang=\"da\"><head><meta charset=\"utf-8\"><style>\
         @page { size: A4; margin: 2.5cm 2cm; @bottom-right { content: \"Side \" counter(page) \" af \" counter(pages); font-size: 9pt; } }\
         body { font-family: serif; font-size: 11pt; line-height: 1.35; }\
         h1 { font-size: 26pt; margin: 0 } h2 { font-size: 15pt; } .meta { color: #555; }\
         section { break-before: page; } table { border-collapse: collapse; }\
         th, td { border: 0.5pt solid #999; padding: 2pt 5pt; }\
         .toc a::after { content: leader('.') target-counter(attr(href), page); }\
         .page { break-before: page; width: 100%; }\
         </style>",
    );
    let _ = write!(
        out,
        "<title>{} – Dagsorden</title></head><body><p>{}</p><h1>Dagsorden</h1><p>{}<br>{}</p><h2>Indhold</h2><ol class=\"toc\">",
        esc(&c.name),
        esc(&c.name),
        esc(&kkr::clock::danish_long_date(m.date)),
        esc(&m.place)
    );
    for (i, item) in items.iter().enumerate() {
        let _ = write!(out, "<li><a href=\"#p{}\">{}</a></li>", i + 1, esc(&item.title));
    }
    out.push_str("</ol>");
    for (i, item) in items.iter().enumerate() {
        let mut body = String::new();
        blocks_html(&kkr::markdown::to_blocks(&item.body), &mut body);
        let _ = write!(
            out,
            "<section id=\"p{n}\"><h2>{n}. {}</h2><p class=\"meta\">{} · {}{}</p>{body}<h3>Indstilling</h3><p>{}</p></section>",
            esc(&item.title),
            esc(&item.area),
            item.kind.display(),
            item.case
                .as_deref()
                .map(|c| format!(" · Sag {}", esc(c)))
                .unwrap_or_default(),
            esc(&item.recommendation),
            n = i + 1,
        );
    }
    for a in items.iter().flat_map(|i| &i.attachments).filter(|_| pages) {
        for k in 1..=a.pages {
            let svg = attachments.join(format!("{}-{k}.svg", a.sha256));
            let _ = write!(
                out,
                "<img class=\"page\" src=\"file://{}\" alt=\"{}, side {k}\">",
                svg.display(),
                esc(a.display_name())
            );
        }
    }
    out.push_str("</body></html>");
    out
}

fn latency_bench(bin: &Path) {
    println!("## 2. Drop → draft PDF in the running daemon\n");
    let (_dir, ws) = workspace("");
    let mut child = Command::new(bin)
        .arg("-C")
        .arg(&ws.root)
        .args(["run", "--now", "2027-01-10T09:00", "-q"])
        .spawn()
        .unwrap();
    let draft =
        ws.meeting_dir(jiff::civil::date(2027, 1, 28)).join("dagsorden-udkast.pdf");
    let modified = || fs::metadata(&draft).and_then(|m| m.modified()).ok();
    let wait_change = |before: Option<SystemTime>| {
        let start = Instant::now();
        loop {
            let now = modified();
            if now.is_some() && now != before {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "the draft never changed");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    wait_change(None);
    std::thread::sleep(Duration::from_millis(500));
    let staging = ws.root.join("staging");
    fs::create_dir_all(&staging).unwrap();
    let mut times = Vec::new();
    for k in 0..10 {
        let text = format!(
            "+++\nid = \"2027-01-28-bench-{k}\"\nmeeting = \"2027-01-28\"\ntitle = \"Måling {k}\"\narea = \"Andet\"\nkind = \"orientering\"\n+++\nTekst.\n"
        );
        fs::write(staging.join("x.md"), text).unwrap();
        let before = modified();
        let t = Instant::now();
        fs::rename(staging.join("x.md"), ws.inbox().join(format!("bench-{k}.md")))
            .unwrap();
        wait_change(before);
        times.push(ms(t.elapsed()));
        std::thread::sleep(Duration::from_millis(300));
    }
    let _ = child.kill();
    let _ = child.wait();
    let max = times.iter().copied().fold(0.0, f64::max);
    println!("| case | median ms | max ms |\n|---|---|---|");
    println!(
        "| item renamed into inbox/ → dagsorden-udkast.pdf rewritten (20–30 items) | {:.0} | {max:.0} |\n",
        median(times)
    );
}

fn send_bench(bin: &Path) {
    println!("## 3. Agenda to every recipient through an SMTP server on 127.0.0.1\n");
    let sink = smtp::Sink::start(smtp::Behaviour::default());
    let extra = format!(
        "\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
        sink.port
    );
    let (_dir, ws) = workspace(&extra);
    let status = Command::new(bin)
        .arg("-C")
        .arg(&ws.root)
        .args(["run", "--once", "--now", "2027-01-15T09:00", "-q"])
        .status()
        .unwrap();
    assert!(status.success());
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(bin)
        .arg("-C")
        .arg(&ws.root)
        .args(["send", "2027-01-28", "--now", "2027-01-15T10:00", "-q"])
        .output();
    let wall = t.elapsed().as_secs_f64();
    let n = sink.messages().len();
    let rss = out
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stderr).lines().last()?.trim().parse::<f64>().ok()
        })
        .map_or("–".into(), |kb| format!("{:.0}", kb / 1024.0));
    println!(
        "| case | wall s | messages | messages/s | peak RSS MiB |\n|---|---|---|---|---|"
    );
    println!(
        "| `kkr send` as a process: render, record, one SMTP connection for the pass | {wall:.2} | {n} | {:.0} | {rss} |\n",
        n as f64 / wall
    );
}

/// What the discarding sink of [`smtp_bench`] has seen since its counts were last taken.
#[derive(Debug, Default, Clone, Copy)]
struct SinkCounts {
    /// Messages accepted (DATA ended with its dot).
    messages: usize,
    /// Sessions opened.
    connections: usize,
    /// Bytes of message data received.
    bytes: usize,
    /// When the first session opened.
    first: Option<Instant>,
    /// When the last message was accepted.
    last: Option<Instant>,
}

/// Shared state of the discarding sink.
#[derive(Default)]
struct SinkState {
    /// What has been seen since the counts were last taken.
    counts: std::sync::Mutex<SinkCounts>,
    /// Set when the sink is dropped.
    stop: std::sync::atomic::AtomicBool,
}

/// A real SMTP server on 127.0.0.1 that accepts every message and discards it, counting
/// (the test sink keeps every message in memory, ~60 MB a round here). One thread per
/// session, as the test sink; the same server for kkr and for smtplib in a run. It takes
/// the 62 messages in 0.1–0.2 s (a raw socket client sending them pre-stuffed), so it
/// is not what either side waits for.
struct Discard {
    /// The port it listens on.
    port: u16,
    /// Counts and the stop flag, shared with the sessions.
    state: std::sync::Arc<SinkState>,
}

impl Discard {
    /// Starts on a free loopback port.
    fn start() -> Self {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = std::sync::Arc::new(SinkState::default());
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = discard_session(stream, &s);
                });
            }
        });
        Self { port, state }
    }

    /// What it has seen since the last call, and starts counting anew.
    fn take(&self) -> SinkCounts {
        std::mem::take(&mut *self.state.counts.lock().unwrap())
    }
}

impl Drop for Discard {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One session of the discarding sink: the replies of the test sink, without storing.
fn discard_session(stream: std::net::TcpStream, s: &SinkState) -> std::io::Result<()> {
    use std::io::{BufRead, Write};
    stream.set_nodelay(true)?;
    let mut out = stream.try_clone()?;
    let mut input = std::io::BufReader::with_capacity(1 << 16, stream);
    {
        let mut c = s.counts.lock().unwrap();
        c.connections += 1;
        c.first.get_or_insert_with(Instant::now);
    }
    out.write_all(b"220 bench ESMTP\r\n")?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).map(<[u8]>::to_ascii_uppercase).unwrap_or_default();
        let reply: &[u8] = match &verb[..] {
            b"EHLO" => b"250-bench\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            b"HELO" | b"MAIL" | b"RCPT" | b"RSET" | b"NOOP" => b"250 ok\r\n",
            b"DATA" => {
                out.write_all(b"354 go ahead\r\n")?;
                let mut bytes = 0;
                loop {
                    line.clear();
                    if input.read_until(b'\n', &mut line)? == 0 {
                        return Ok(());
                    }
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    bytes += line.len();
                }
                let mut c = s.counts.lock().unwrap();
                c.messages += 1;
                c.bytes += bytes;
                c.last = Some(Instant::now());
                b"250 2.0.0 queued\r\n"
            }
            b"QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        out.write_all(reply)?;
    }
}

/// Rounds of the kkr-against-smtplib comparison.
const SMTP_ROUNDS: usize = 5;

/// The agenda's send moment for the example's first meeting (7 days before, 09:00).
const SEND_MOMENT: &str = "2027-01-21T09:00";

/// A moment before it, at which the inbox is taken in, the draft rendered and the
/// secretariat's notice sent (24 hours before).
const BEFORE_SEND: &str = "2027-01-20T09:00";

/// `kkr run --once --now NOW -q` in a workspace; panics with kkr's output if it fails.
fn run_once(bin: &Path, ws: &Workspace, now: &str) {
    let out = Command::new(bin)
        .arg("-C")
        .arg(&ws.root)
        .args(["run", "--once", "--now", now, "-q"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kkr run --once --now {now}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One timed process against the sink: its wall time split at the sink's first session
/// and last acceptance (before the first connection, SMTP, after the last message).
#[derive(Debug, Clone, Copy)]
struct SmtpRun {
    /// From the process's start to its end.
    wall: f64,
    /// From the start to the first session.
    before: f64,
    /// From the first session to the last message accepted.
    smtp: f64,
    /// From the last message accepted to the process's end.
    after: f64,
    /// What the sink saw.
    counts: SinkCounts,
}

impl SmtpRun {
    /// Runs `cmd` to its end and takes the sink's counts.
    fn measure(sink: &Discard, cmd: &mut Command) -> Self {
        sink.take();
        let start = Instant::now();
        let out = cmd.output().unwrap();
        let end = Instant::now();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let counts = sink.take();
        let (first, last) = (counts.first.unwrap(), counts.last.unwrap());
        let s = |a: Instant, b: Instant| b.saturating_duration_since(a).as_secs_f64();
        Self {
            wall: s(start, end),
            before: s(start, first),
            smtp: s(first, last),
            after: s(last, end),
            counts,
        }
    }
}

/// The agenda to the 62 roster rows through one local SMTP server, kkr (a whole `kkr run
/// --once` at the send moment: render, record, send over one connection, publish) against
/// Python's smtplib sending kkr's own pre-built messages (`scripts/bench_smtplib.py`) over
/// one connection, and over one connection per message (kkr's way before issue 16).
fn smtp_bench(bin: &Path) {
    println!(
        "## 7. The agenda to 62 recipients through one local SMTP server: kkr against Python smtplib\n"
    );
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = repo.join("scripts/bench_smtplib.py");
    let sink = Discard::start();
    // The pre-built messages: kkr's own, from a workspace without [mail.smtp] (dry run).
    let (_dry, dry) = workspace("");
    run_once(bin, &dry, BEFORE_SEND);
    run_once(bin, &dry, SEND_MOMENT);
    let eml = tempfile::tempdir().unwrap();
    let mut size = 0;
    for e in fs::read_dir(dry.mail_dir()).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("2027-01-28-dagsorden-") && name.ends_with(".eml") {
            size += e.metadata().unwrap().len() as usize;
            fs::copy(e.path(), eml.path().join(&name)).unwrap();
        }
    }
    let n = fs::read_dir(eml.path()).unwrap().count();
    assert_eq!(n, 62, "the dry run wrote one agenda mail per roster row");
    let extra = format!(
        "\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
        sink.port
    );
    let python = |per_message: bool| {
        let mut cmd = Command::new("python3");
        cmd.arg(&script).arg("--port").arg(sink.port.to_string());
        if per_message {
            cmd.arg("--per-message");
        }
        let run = SmtpRun::measure(&sink, cmd.arg(eml.path()));
        assert_eq!(run.counts.messages, n, "smtplib delivered every message");
        run
    };
    // KKR_BENCH_WRAP: a command (split at spaces) that the first round's kkr runs under,
    // e.g. a profiler; that round's times then include the wrapper's.
    let wrap: Vec<String> = std::env::var("KKR_BENCH_WRAP")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let (mut kkr, mut one, mut each) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..SMTP_ROUNDS {
        let (_dir, ws) = workspace(&extra);
        run_once(bin, &ws, BEFORE_SEND);
        let kkr_run = || {
            let mut cmd = match (round, wrap.split_first()) {
                (0, Some((program, args))) => {
                    let mut c = Command::new(program);
                    c.args(args).arg(bin);
                    c
                }
                _ => Command::new(bin),
            };
            cmd.arg("-C").arg(&ws.root).args([
                "run",
                "--once",
                "--now",
                SEND_MOMENT,
                "-q",
            ]);
            let run = SmtpRun::measure(&sink, &mut cmd);
            assert_eq!(run.counts.messages, n, "kkr delivered the agenda to every row");
            run
        };
        // Alternate which goes first, so a drift of the machine within a round is shared.
        if round % 2 == 0 {
            kkr.push(kkr_run());
            one.push(python(false));
        } else {
            one.push(python(false));
            kkr.push(kkr_run());
        }
        each.push(python(true));
    }
    let med =
        |runs: &[SmtpRun], f: fn(&SmtpRun) -> f64| median(runs.iter().map(f).collect());
    let k = med(&kkr, |r| r.wall);
    println!(
        "{n} messages of {:.0} KiB each ({:.1} MiB in all, the agenda PDF base64-encoded in each); {SMTP_ROUNDS} rounds, each a fresh workspace; one discarding SMTP server for all\n",
        size as f64 / n as f64 / 1024.0,
        size as f64 / 1048576.0
    );
    println!(
        "| case | median s | min–max s | × kkr | before the first connection s | SMTP: first connection → last message s | after s | connections |\n|---|---|---|---|---|---|---|---|"
    );
    for (label, runs) in [
        (
            "`kkr run --once` at the send moment as a process: render, record, send over one connection, publish",
            &kkr,
        ),
        (
            "Python smtplib as a process, kkr's 62 pre-built messages, one connection",
            &one,
        ),
        ("Python smtplib as a process, the same, one connection per message", &each),
    ] {
        let wall = med(runs, |r| r.wall);
        let min = runs.iter().map(|r| r.wall).fold(f64::INFINITY, f64::min);
        let max = runs.iter().map(|r| r.wall).fold(0.0, f64::max);
        println!(
            "| {label} | {wall:.3} | {min:.3}–{max:.3} | {:.2} | {:.3} | {:.3} | {:.3} | {} |",
            wall / k,
            med(runs, |r| r.before),
            med(runs, |r| r.smtp),
            med(runs, |r| r.after),
            runs[0].counts.connections
        );
        let bytes = runs[0].counts.bytes;
        assert!(bytes.abs_diff(kkr[0].counts.bytes) < bytes / 100, "the same messages");
    }
    let ratios: Vec<String> =
        kkr.iter().zip(&one).map(|(k, p)| format!("{:.2}", p.wall / k.wall)).collect();
    println!("\nsmtplib (one connection) ÷ kkr, round by round: {}\n", ratios.join(", "));
}

fn memory_bench(bin: &Path) {
    println!("## 4. Daemon memory over a simulated year\n");
    let (_dir, ws) = workspace("");
    let mut child = Command::new(bin)
        .arg("-C")
        .arg(&ws.root)
        .args(["run", "--now", "2027-01-10T09:00", "-q"])
        .spawn()
        .unwrap();
    let rss = |pid: u32| {
        let status =
            fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    };
    let draft =
        ws.meeting_dir(jiff::civil::date(2027, 1, 28)).join("dagsorden-udkast.pdf");
    let modified = || fs::metadata(&draft).and_then(|m| m.modified()).ok();
    let wait_change = |before: Option<SystemTime>| {
        let start = Instant::now();
        while modified() == before || modified().is_none() {
            assert!(start.elapsed() < Duration::from_secs(60), "the draft never changed");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    wait_change(None);
    let staging = ws.root.join("staging");
    fs::create_dir_all(&staging).unwrap();
    let mut samples = Vec::new();
    // A year: 5 meetings with about 40 changes each; each change re-renders the draft.
    for k in 0..200 {
        let text = format!(
            "+++\nid = \"2027-01-28-aendring-{}\"\nmeeting = \"2027-01-28\"\ntitle = \"Ændring {k}\"\narea = \"Andet\"\nkind = \"orientering\"\n+++\nTekst {k}.\n",
            k % 5
        );
        fs::write(staging.join("x.md"), text).unwrap();
        let before = modified();
        fs::rename(staging.join("x.md"), ws.inbox().join(format!("a{k}.md"))).unwrap();
        wait_change(before);
        if k % 40 == 39 {
            samples.push(format!("{:.0}", rss(child.id()).0));
        }
    }
    let peak = rss(child.id()).1;
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "| case | daemon RSS MiB after 40, 80, 120, 160, 200 changes | peak RSS MiB |\n|---|---|---|"
    );
    println!(
        "| 200 item changes, each re-rendering the 20–25-item draft | {} | {peak:.0} |\n",
        samples.join(", ")
    );
}

fn archive_bench() {
    println!("## 5. Archive rebuild: 5 councils × 5 meetings × 4 years, both cores\n");
    let (_dir, ws) = workspace("");
    let (council, start) = council(&ws);
    let base = items(&council);
    let config = council.config.clone();
    let jobs: Vec<(usize, i16, i8)> = (0..5)
        .flat_map(|c| (0..4).flat_map(move |y| (0..5).map(move |k| (c, y, k))))
        .collect();
    let next = AtomicUsize::new(0);
    let bar = indicatif::ProgressBar::new(jobs.len() as u64 * 3);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} dokumenter {elapsed}",
        )
        .unwrap(),
    );
    let names = ["Nordjylland", "Midtjylland", "Syddanmark", "Hovedstaden", "Sjælland"];
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut renderer = Renderer::new(None, vec![ws.attachments()]);
                while let Some(&(c, y, k)) = jobs.get(next.fetch_add(1, Ordering::SeqCst))
                {
                    let mut m = config.meetings[0].clone();
                    m.date = jiff::civil::date(2026 + y, 2 + 2 * k, 10);
                    let mut council = config.council.clone();
                    council.name = format!("KKR {}", names[c]);
                    let items: Vec<Item> = base
                        .iter()
                        .map(|i| {
                            let mut i = i.clone();
                            let text = format!("Godkendt ({c}/{y}/{k}).");
                            let public_text = "Beslutning truffet.".into();
                            i.decision = Some(Decision { text, public_text });
                            i
                        })
                        .collect();
                    for (kind, edition) in [
                        (DocKind::Agenda, Edition::Member),
                        (DocKind::Minutes, Edition::Member),
                        (DocKind::Minutes, Edition::Public),
                    ] {
                        renderer
                            .render(&data(&council, &m, &items, kind, edition, start))
                            .unwrap();
                        bar.inc(1);
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    let wall = t.elapsed().as_secs_f64();
    let docs = jobs.len() * 3;
    println!(
        "| case | documents | wall s | documents/s | peak RSS MiB (whole run) |\n|---|---|---|---|---|"
    );
    println!(
        "| 100 meetings × (agenda, member minutes, public minutes), 20 items each | {docs} | {wall:.1} | {:.1} | {:.0} |\n",
        docs as f64 / wall,
        proc_mib("VmHWM:")
    );
}

/// Five councils with four years of meetings (5 a year), each meeting the example's 12
/// items with decisions, driven through the real schedule by `kkr run --once`; then the
/// public folders are deleted and `kkr publish --alle` rebuilds them all as one process.
fn rebuild_bench(bin: &Path) {
    println!(
        "## 6. `kkr publish --alle`: the public archive of 5 councils × 4 years rebuilt\n"
    );
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = fs::read_to_string(repo.join("council.toml")).unwrap();
    let head = &base[..base.find("\n[[meeting]]").unwrap() + 1];
    let tail = &base[base.find("\n[schedule]").unwrap() + 1..];
    let roster: String = fs::read_to_string(repo.join("members.csv"))
        .unwrap()
        .lines()
        .take(4)
        .map(|l| format!("{l}\n"))
        .collect();
    let dates: Vec<jiff::civil::Date> = (0..4)
        .flat_map(|y| (0..5).map(move |k| jiff::civil::date(2027 + y, 2 + 2 * k, 10)))
        .collect();
    let names = ["Nordjylland", "Midtjylland", "Syddanmark", "Hovedstaden", "Sjælland"];
    let run = |dir: &Path, now: String| {
        let ok = Command::new(bin)
            .arg("-C")
            .arg(dir)
            .args(["run", "--once", "--now", &now, "-q"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kkr run --once --now {now} in {}", dir.display());
    };
    let setup = Instant::now();
    let example = tempfile::tempdir().unwrap();
    example::copy_inbox(&repo.join("inbox"), example.path());
    let example = &example;
    let dirs: Vec<tempfile::TempDir> =
        names.iter().map(|_| tempfile::tempdir().unwrap()).collect();
    std::thread::scope(|s| {
        for (dir, name) in dirs.iter().zip(names) {
            let (dates, run, roster) = (&dates, &run, &roster);
            s.spawn(move || {
                let d = dir.path();
                let slug = format!("kkr-{}", name.to_lowercase().replace('æ', "ae"));
                let mut config = head
                    .replace("KKR Hovedstaden", &format!("KKR {name}"))
                    .replace("kkr-hovedstaden", &slug);
                for date in dates {
                    config += &format!("[[meeting]]\ndate = \"{date}\"\nstarts = \"09:00\"\nends = \"11:30\"\nplace = \"Rådhuset\"\n\n");
                }
                fs::write(d.join("council.toml"), config + tail).unwrap();
                fs::write(d.join("members.csv"), roster).unwrap();
                copy_dir(&example.path().join("bilag"), &d.join("inbox/bilag"));
                for e in fs::read_dir(example.path()).unwrap().flatten() {
                    let file = e.file_name().to_string_lossy().into_owned();
                    if !file.ends_with(".md") {
                        continue;
                    }
                    let text = fs::read_to_string(e.path()).unwrap();
                    let (front, body) = text[4..].split_once("\n+++\n").unwrap();
                    for date in dates {
                        let front = front.replace("2027-01-28", &date.to_string());
                        let decision = "[decision]\ntext = \"Godkendt.\"\npublic_text = \"Beslutning truffet.\"";
                        fs::write(
                            d.join(format!("inbox/{date}-{file}")),
                            format!("+++\n{front}\n{decision}\n+++\n{body}"),
                        )
                        .unwrap();
                    }
                }
                age_all(&d.join("inbox"));
                run(d, format!("{}T09:00", dates[0] - jiff::ToSpan::days(8)));
                for date in dates {
                    run(d, format!("{}T09:00", *date - jiff::ToSpan::days(7)));
                }
                run(d, format!("{}T12:00", dates[dates.len() - 1]));
            });
        }
    });
    let setup = setup.elapsed().as_secs_f64();
    let count = |ext: &str| {
        dirs.iter()
            .map(|d| {
                let mut n = 0;
                let root = d.path().join("outbox/public");
                for m in fs::read_dir(&root).into_iter().flatten().flatten() {
                    if m.path().is_dir() {
                        n += fs::read_dir(m.path()).unwrap().flatten().count();
                    } else if m.path().extension().is_some_and(|e| e == ext)
                        || ext.is_empty()
                    {
                        n += 1;
                    }
                }
                n
            })
            .sum::<usize>()
    };
    let before = count("");
    for d in &dirs {
        fs::remove_dir_all(d.path().join("outbox/public")).unwrap();
    }
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%M"]).arg(bin);
    for d in &dirs {
        cmd.arg("-C").arg(d.path());
    }
    let t = Instant::now();
    let out = cmd
        .args(["publish", "--alle", "--now", "2031-01-01T09:00", "-q"])
        .output()
        .unwrap();
    let wall = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = count("");
    assert_eq!(after, before, "every public file is back");
    let pdfs = after - 3 * dirs.len();
    let rss = String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse::<f64>().ok())
        .map_or("–".into(), |kb| format!("{:.0}", kb / 1024.0));
    println!(
        "| case | public PDFs | site files | wall s | PDFs/s | peak RSS MiB |\n|---|---|---|---|---|---|"
    );
    println!(
        "| `kkr publish --alle -C ×5`: 100 meetings' public agenda and minutes rendered again, site files | {pdfs} | {} | {wall:.1} | {:.1} | {rss} |\n",
        3 * dirs.len(),
        pdfs as f64 / wall
    );
    println!("(Setting the five councils up through the schedule took {setup:.0} s.)\n");
}

fn main() {
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(profile)
        .join("kkr");
    assert!(bin.exists(), "build the kkr binary first: cargo build --{profile}");
    println!("# kkr benchmarks ({profile} build)\n");
    // Sections to run: all, or those named on the command line (render [html], latency,
    // send, smtp, memory, archive, rebuild).
    let only: Vec<String> = std::env::args().skip(1).collect();
    let run = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if run("render") {
        // `render` alone skips WeasyPrint and LibreOffice (minutes); `render html` runs them.
        render_bench(only.is_empty() || only.iter().any(|o| o == "html"));
    }
    if run("latency") {
        latency_bench(&bin);
    }
    if run("send") {
        send_bench(&bin);
    }
    if run("smtp") {
        smtp_bench(&bin);
    }
    if run("memory") {
        memory_bench(&bin);
    }
    if run("archive") {
        archive_bench();
    }
    if run("rebuild") {
        rebuild_bench(&bin);
    }
}
