//! A full disk: kkr runs with a file-size limit (`ulimit -f`, the signal ignored, so every
//! write past the limit fails with an error as on a full file system), at several limits so
//! the failure hits the ledger, the stored attachments, the PDFs or the mails. Each time
//! nothing is half-written, and a run with room again finishes everything, once.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{Test, poppler, stderr};

/// Runs `kkr -C <workspace> ARGS` with no file allowed to grow beyond `kib` KiB.
fn kkr_limited(t: &Test, kib: u64, args: &[&str]) -> Output {
    Command::new("bash")
        .args(["-c", &format!("ulimit -f {kib} && trap '' XFSZ && exec \"$@\""), "kkr"])
        .arg(env!("CARGO_BIN_EXE_kkr"))
        .arg("-C")
        .arg(t.path(""))
        .args(args)
        .output()
        .unwrap()
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            tree(&e.path(), base, out);
        } else {
            out.push(e.path().strip_prefix(base).unwrap().to_string_lossy().into_owned());
        }
    }
}

fn all_files(t: &Test) -> Vec<String> {
    let mut out = Vec::new();
    tree(&t.path(""), &t.path(""), &mut out);
    out.sort();
    out
}

#[test]
fn a_full_disk_leaves_no_half_file_and_the_next_run_finishes_everything_once() {
    // How large things get when there is room, to choose limits that fail at each stage.
    let roomy = Test::example();
    roomy.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let pdf = fs::metadata(roomy.path("outbox/2027-01-28/dagsorden.pdf")).unwrap().len();
    let ledger = fs::metadata(roomy.path("state/kkr.sqlite")).unwrap().len();
    assert!(pdf > 64 * 1024, "the agenda must be larger than the smallest limit ({pdf})");
    let expected = all_files(&roomy);

    // 8 KiB: the ledger cannot even be created. 64 KiB: the ledger fills up while items are
    // recorded. Just under the agenda: the attachment's stored pages cannot be written; and
    // with the items already taken in (with room) the day before, the agenda's PDF cannot.
    let limits =
        [(8, false), (64, false), (pdf / 1024 - 8, false), (pdf / 1024 - 8, true)];
    for (kib, taken_in) in limits {
        let t = Test::example();
        if taken_in {
            t.must(&["run", "--once", "--now", "2027-01-20T08:00"], 0);
        }
        let out = kkr_limited(&t, kib, &["run", "--once", "--now", "2027-01-21T09:00"]);
        let code = out.status.code();
        assert!(
            matches!(code, Some(1..=4)),
            "limit {kib} KiB: an error exit, not a crash or a success: {code:?}\n{}",
            stderr(&out)
        );
        let err = stderr(&out);
        assert!(
            (err.contains("fejl") || err.contains("kunne ikke"))
                && !err.contains("panicked"),
            "limit {kib} KiB: a Danish error, no panic:\n{err}"
        );
        if taken_in {
            assert!(
                err.contains("dagsorden.pdf"),
                "the agenda could not be written:\n{err}"
            );
            assert!(t.mails("outbox/mail").is_empty(), "no mail without its PDF");
        }
        let files = all_files(&t);
        let half: Vec<_> = files
            .iter()
            .filter(|f| f.ends_with(".tmp") || f.contains("/.kkr-"))
            .collect();
        assert!(half.is_empty(), "limit {kib} KiB: temporary files left: {half:?}");
        for f in files.iter().filter(|f| f.ends_with(".pdf") && f.starts_with("outbox/"))
        {
            let info = poppler("pdfinfo", &[], &t.path(f));
            assert!(info.contains("Pages:"), "limit {kib} KiB: {f} is a whole PDF");
        }
        assert!(
            t.files("inbox/afvist").is_empty(),
            "limit {kib} KiB: a full disk is not the secretariat's error: {:?}",
            t.files("inbox/afvist")
        );

        // Room again: everything is done, nothing twice, nothing lost.
        t.must(&["run", "--once", "--now", "2027-01-21T09:05"], 0);
        assert_eq!(t.files("inbox/behandlet/2027-01-28").len(), 12, "limit {kib} KiB");
        assert_eq!(t.mails("outbox/mail").len(), 62, "limit {kib} KiB: once each");
        let pages = |t: &Test| {
            let info =
                poppler("pdfinfo", &[], &t.path("outbox/2027-01-28/dagsorden.pdf"));
            info.lines().find(|l| l.starts_with("Pages:")).unwrap().to_owned()
        };
        assert_eq!(pages(&t), pages(&roomy), "limit {kib} KiB: the whole agenda");
        // The same files as with room, but the secretariat's notices of the failure.
        let made: Vec<String> =
            all_files(&t).into_iter().filter(|f| !f.contains("/besked-")).collect();
        assert_eq!(made, expected, "limit {kib} KiB: the same files as with room");
    }
    assert!(ledger > 8 * 1024, "the ledger outgrows the smallest limit ({ledger})");
}
