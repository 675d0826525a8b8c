//! The only reader of wall-clock time; `--now` and tests set where the clock starts.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime};

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, Zoned};

/// The councils' time zone.
pub const TZ_NAME: &str = "Europe/Copenhagen";

/// The `Europe/Copenhagen` time zone (bundled, so it does not depend on the host).
pub fn tz() -> &'static TimeZone {
    static TZ: OnceLock<TimeZone> = OnceLock::new();
    TZ.get_or_init(|| {
        jiff::tz::db()
            .get(TZ_NAME)
            .expect("the bundled tz database has Europe/Copenhagen")
    })
}

/// The time as kkr sees it: the real wall clock, or a chosen start (`--now`) that then runs
/// forward at real speed.
#[derive(Debug, Clone)]
pub struct Clock {
    /// `None`: the wall clock, read at every call (so a corrected system clock is seen at
    /// once). `Some((start, started))`: `start` at the real instant `started`.
    shifted: Option<(Timestamp, Instant)>,
    /// The latest moment kkr has acted at (kept in the ledger): the clock never shows an
    /// earlier one, so a clock set back cannot undo "the meeting has started".
    floor: Option<Timestamp>,
}

impl Clock {
    /// The real time.
    pub fn system() -> Self {
        Self { shifted: None, floor: None }
    }

    /// A clock that shows `start` now and runs forward from there.
    pub fn starting_at(start: Timestamp) -> Self {
        Self { shifted: Some((start, Instant::now())), floor: None }
    }

    /// The same clock, never showing a moment before `floor` (SPEC: time never runs
    /// backwards for decisions).
    pub fn with_floor(&self, floor: Timestamp) -> Self {
        let floor = self.floor.map_or(floor, |f| f.max(floor));
        Self { shifted: self.shifted, floor: Some(floor) }
    }

    /// Logs it when the machine's clock is more than a minute behind the latest moment kkr
    /// acted at (the floor).
    pub fn warn_if_behind(&self) {
        if let Some(d) = self.behind()
            && d > jiff::SignedDuration::from_secs(60)
        {
            tracing::warn!(
                "maskinens ur er {} minutter bagud for det seneste tidspunkt, kkr har handlet; kkr regner med det seneste tidspunkt, til uret har indhentet det",
                d.as_secs() / 60
            );
        }
    }

    /// How far the clock itself is behind the floor, when it went back.
    pub fn behind(&self) -> Option<jiff::SignedDuration> {
        let floor = self.floor?;
        let raw = self.raw();
        (raw < floor).then(|| floor.duration_since(raw))
    }

    /// The current moment in Copenhagen.
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place that reads the wall clock"
    )]
    pub fn now(&self) -> Zoned {
        let raw = self.raw();
        let ts = self.floor.map_or(raw, |f| raw.max(f));
        ts.to_zoned(tz().clone())
    }

    #[allow(
        clippy::disallowed_methods,
        reason = "the one place that reads the wall clock"
    )]
    fn raw(&self) -> Timestamp {
        match self.shifted {
            None => Timestamp::now(),
            Some((start, started)) => {
                let elapsed =
                    jiff::SignedDuration::try_from(started.elapsed()).unwrap_or_default();
                start.checked_add(elapsed).unwrap_or(start)
            }
        }
    }
}

/// The real time of the file system's clock, for comparing with file modification times.
#[allow(
    clippy::disallowed_methods,
    reason = "file ages are measured in real time (SPEC §6)"
)]
pub fn real_system_time() -> SystemTime {
    SystemTime::now()
}

/// Resolves a local date and time in Copenhagen: a time in the spring-forward gap becomes the
/// first moment after the gap, a time in the autumn repeated hour its first occurrence.
pub fn resolve_local(dt: DateTime) -> Zoned {
    let tz = tz();
    let ambiguous = tz.to_ambiguous_timestamp(dt);
    let ts = match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt),
        // The earlier instant under the later offset lies before the transition; the
        // transition itself is the first moment after the gap.
        AmbiguousOffset::Gap { after, .. } => {
            let probe = after.to_timestamp(dt).expect("a gap is within range");
            return tz
                .following(probe)
                .next()
                .map(|t| t.timestamp().to_zoned(tz.clone()))
                .expect("a gap is followed by its transition");
        }
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt),
    };
    ts.expect("dates in the supported range").to_zoned(tz.clone())
}

/// The local moment `time` on `date` in Copenhagen, resolved as [`resolve_local`] does.
pub fn at(date: Date, time: jiff::civil::Time) -> Zoned {
    resolve_local(date.to_datetime(time))
}

/// Parses a `--now` value: `2026-03-05T09:00`, with optional seconds, in local time.
pub fn parse_now(s: &str) -> Result<Zoned, String> {
    let dt: DateTime = s.trim().parse().map_err(|_| {
        format!("`{s}` er ikke et tidspunkt; skriv fx 2026-03-05T09:00 (lokal dansk tid)")
    })?;
    if !(2000..=2100).contains(&dt.year()) {
        return Err(format!("`{s}` ligger uden for årene 2000–2100"));
    }
    Ok(resolve_local(dt))
}

const WEEKDAYS: [&str; 7] =
    ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"];
/// The Danish months, lower case, as dates are written (`1. april 2027`).
pub(crate) const MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
];

/// `28. januar 2027`.
pub fn danish_date(date: Date) -> String {
    format!("{}. {} {}", date.day(), MONTHS[date.month() as usize - 1], date.year())
}

/// `torsdag den 28. januar 2027`.
pub fn danish_long_date(date: Date) -> String {
    let weekday = WEEKDAYS[date.weekday().to_monday_zero_offset() as usize];
    format!("{weekday} den {}", danish_date(date))
}

/// `9.00`, `13.30`: Danish clock time.
pub fn danish_time(time: jiff::civil::Time) -> String {
    format!("{}.{:02}", time.hour(), time.minute())
}

/// `torsdag den 28. januar 2027 kl. 9.00`.
pub fn danish_moment(dt: DateTime) -> String {
    format!("{} kl. {}", danish_long_date(dt.date()), danish_time(dt.time()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn formats_danish_dates() {
        let dt = date(2027, 1, 28).at(9, 0, 0, 0);
        assert_eq!(danish_moment(dt), "torsdag den 28. januar 2027 kl. 9.00");
        assert_eq!(danish_long_date(date(2026, 3, 12)), "torsdag den 12. marts 2026");
        assert_eq!(danish_time(jiff::civil::time(13, 5, 0, 0)), "13.05");
    }

    #[test]
    fn spring_gap_resolves_to_first_moment_after() {
        // 29 March 2026: 02:00 CET jumps to 03:00 CEST.
        let z = parse_now("2026-03-29T02:30").unwrap();
        assert_eq!(z.datetime(), date(2026, 3, 29).at(3, 0, 0, 0));
        assert_eq!(z.offset().seconds(), 7200);
    }

    #[test]
    fn autumn_fold_resolves_to_first_occurrence() {
        // 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 occurs twice.
        let z = parse_now("2026-10-25T02:30").unwrap();
        assert_eq!(z.offset().seconds(), 7200);
        assert_eq!(z.timestamp().to_string(), "2026-10-25T00:30:00Z");
    }

    #[test]
    fn clock_starts_at_given_moment() {
        let start = parse_now("2027-01-21T09:00").unwrap();
        let clock = Clock::starting_at(start.timestamp());
        let now = clock.now();
        assert!(now >= start);
        assert!(now.timestamp().as_second() - start.timestamp().as_second() < 5);
    }

    #[test]
    fn rejects_garbage_now() {
        assert!(parse_now("i morgen").unwrap_err().contains("2026-03-05T09:00"));
    }
}
