//! The render worker as a process (issue 13): Typst compiles and exports in a long-lived
//! child of kkr's own binary (`kkr __render`), so its world stays warm while a stack
//! overflow, an allocation failure or an abort in a render ends only the child; the council's
//! renderer then starts a new one. Requests and answers are length-prefixed frames on the
//! child's standard input and output.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::edition::DocData;
use crate::error::{Error, Result};

/// What a render reports when its worker stopped under it.
pub(crate) const DIED: &str = "Typst stoppede under opsætningen (dokumentet er for stort, eller et bilag er beskadiget)";

/// The hidden subcommand of the render worker.
pub(crate) const RENDER_ARG: &str = "__render";

/// Address space of a render worker: Typst with the embedded fonts and a large agenda fits
/// in a few hundred MiB (about 140 MiB resident for the example).
const ADDRESS_SPACE: u64 = 768 << 20;

/// Largest frame either way: a PDF of many bilag pages.
const MAX_FRAME: u64 = 512 << 20;

/// The templates a document may name (`DocData::template` is a static name).
const TEMPLATES: [&str; 2] = ["agenda.typ", "minutes.typ"];

/// A document as it crosses the process boundary.
#[derive(serde::Serialize, serde::Deserialize)]
struct Wire {
    template: String,
    files: BTreeMap<String, String>,
    title: String,
    date: jiff::Timestamp,
    ident: String,
}

/// A failed render as it crosses back.
#[derive(serde::Serialize, serde::Deserialize)]
struct Failed {
    document: String,
    diagnostics: String,
}

fn write_frame(w: &mut impl Write, tag: u8, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(&[tag])?;
    w.write_all(&(bytes.len() as u64).to_le_bytes())?;
    w.write_all(bytes)?;
    w.flush()
}

fn read_frame(r: &mut impl Read) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 9];
    r.read_exact(&mut head)?;
    let len = u64::from_le_bytes(head[1..].try_into().expect("8 bytes"));
    if len > MAX_FRAME {
        return Err(std::io::Error::other("frame too large"));
    }
    let mut bytes = vec![0; len as usize];
    r.read_exact(&mut bytes)?;
    Ok((head[0], bytes))
}

/// The render worker process, killed when this is dropped (a render past its deadline, a
/// new worker, the council closed).
pub(crate) struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running render worker process: the channel ends the renderer uses, and its child.
pub(crate) type Process =
    (mpsc::Sender<DocData>, mpsc::Receiver<Result<Vec<u8>>>, ChildGuard);

/// Starts a render worker process, or `None` when the running binary is not kkr itself
/// (unit tests and the benchmark render in-process).
pub(crate) fn spawn(
    templates: &Option<PathBuf>,
    attachments: &[PathBuf],
) -> Option<Process> {
    let exe = crate::sandbox::worker_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg(RENDER_ARG);
    cmd.arg(templates.clone().unwrap_or_default());
    cmd.args(attachments);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| tracing::warn!("kunne ikke starte Typst-processen: {e}"))
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let mut stdout = child.stdout.take()?;
    let (jobs, job_rx) = mpsc::channel::<DocData>();
    let (result_tx, results) = mpsc::channel();
    let spawned =
        std::thread::Builder::new().name("typst-proces".into()).spawn(move || {
            for doc in job_rx {
                let wire = Wire {
                    template: doc.template.to_owned(),
                    files: doc
                        .files
                        .iter()
                        .map(|(k, v)| (k.clone(), B64.encode(v)))
                        .collect(),
                    title: doc.title.clone(),
                    date: doc.date,
                    ident: doc.ident.clone(),
                };
                let request = serde_json::to_vec(&wire).expect("documents serialize");
                let answer = write_frame(&mut stdin, 0, &request)
                    .and_then(|()| read_frame(&mut stdout));
                let result = match answer {
                    Ok((0, pdf)) => Ok(pdf),
                    Ok((_, json)) => {
                        let f: Failed = serde_json::from_slice(&json).unwrap_or(Failed {
                            document: doc.title.clone(),
                            diagnostics: "ulæseligt svar fra Typst-processen".into(),
                        });
                        Err(Error::Render {
                            document: f.document,
                            diagnostics: f.diagnostics,
                        })
                    }
                    Err(_) => {
                        // The child died on this document: it is named, and the next document
                        // gets a new worker.
                        let _ = result_tx.send(Err(Error::Render {
                            document: doc.title.clone(),
                            diagnostics: DIED.into(),
                        }));
                        return;
                    }
                };
                if result_tx.send(result).is_err() {
                    return;
                }
            }
        });
    if spawned.is_err() {
        return None;
    }
    Some((jobs, results, ChildGuard(child)))
}

/// How the render worker renders: made once from the templates folder and the attachment
/// stores (an in-process `Renderer`, given by the crate root).
pub(crate) type Start =
    fn(Option<PathBuf>, Vec<PathBuf>) -> Box<dyn FnMut(&DocData) -> Result<Vec<u8>>>;

/// `kkr __render TEMPLATES ATTACHMENTS…`: the render worker's side. It sets its limits,
/// then answers one frame per request until its input closes.
pub(crate) fn serve(
    mut args: impl Iterator<Item = std::ffi::OsString>,
    start: Start,
) -> std::process::ExitCode {
    crate::sandbox::ignore_stop_signals();
    #[cfg(unix)]
    {
        let _ = rlimit::setrlimit(rlimit::Resource::AS, ADDRESS_SPACE, ADDRESS_SPACE);
        let _ = rlimit::setrlimit(rlimit::Resource::CORE, 0, 0);
    }
    let templates = args.next().filter(|t| !t.is_empty()).map(PathBuf::from);
    let attachments: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let mut render = start(templates, attachments);
    let (mut stdin, mut stdout) = (std::io::stdin().lock(), std::io::stdout().lock());
    while let Ok((_, request)) = read_frame(&mut stdin) {
        let answer = serde_json::from_slice::<Wire>(&request)
            .map_err(|e| Error::Render {
                document: String::new(),
                diagnostics: e.to_string(),
            })
            .and_then(|w| {
                let template = TEMPLATES.iter().find(|t| **t == w.template).copied();
                let template = template.ok_or_else(|| Error::Render {
                    document: w.title.clone(),
                    diagnostics: format!("ukendt skabelon {}", w.template),
                })?;
                let mut files = BTreeMap::new();
                for (k, v) in w.files {
                    let bytes = B64.decode(v).map_err(|e| Error::Render {
                        document: w.title.clone(),
                        diagnostics: e.to_string(),
                    })?;
                    files.insert(k, bytes);
                }
                let doc = DocData {
                    template,
                    files,
                    title: w.title,
                    date: w.date,
                    ident: w.ident,
                };
                render(&doc)
            });
        let written = match answer {
            Ok(pdf) => write_frame(&mut stdout, 0, &pdf),
            Err(e) => {
                let (document, diagnostics) = match e {
                    Error::Render { document, diagnostics } => (document, diagnostics),
                    e => (String::new(), e.to_string()),
                };
                let json = serde_json::to_vec(&Failed { document, diagnostics })
                    .expect("failures serialize");
                write_frame(&mut stdout, 1, &json)
            }
        };
        if written.is_err() {
            break;
        }
    }
    std::process::ExitCode::SUCCESS
}
