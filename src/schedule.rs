//! When documents are due: a pure function of the time, the configuration and the ledger.

use jiff::civil::Date;
use jiff::{SignedDuration, Zoned};

use crate::config::Config;

/// How late a send may be and still count as on time.
pub const GRACE: SignedDuration = SignedDuration::from_mins(10);

/// What the ledger says about a meeting, as far as the schedule is concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeetingState {
    /// The agenda has been recorded as sent (its deliveries may still be under way).
    pub agenda_sent: bool,
    /// Items on the agenda (withdrawn ones not counted).
    pub items: usize,
    /// Items accepted after the agenda was sent and on no document yet.
    pub new_items: usize,
    /// Items changed or withdrawn since a document showed them.
    pub changed_items: usize,
    /// Every item on the agenda has its decision.
    pub decided: bool,
    /// The minutes have been recorded as sent.
    pub minutes_sent: bool,
    /// A decision, the attendance or the guests changed since the last minutes document
    /// showed them: corrected minutes are owed (SPEC §3.4).
    pub minutes_changed: bool,
    /// A draft for approval shows what the next minutes document would show
    /// (`minutes_approval`).
    pub minutes_draft_current: bool,
    /// That draft is approved: the minutes (or their correction) may go.
    pub minutes_approved: bool,
    /// The agenda is held (no items at its send moment, SPEC §6) and not released yet.
    pub held: bool,
    /// The agenda was released by an approval or `kkr approve`: it goes now.
    pub released: bool,
    /// The meeting is cancelled in `council.toml`.
    pub cancelled: bool,
    /// The members were told it is cancelled.
    pub cancel_sent: bool,
    /// Its day, time or place differs from what the members were last told.
    pub told_changed: bool,
    /// An attendance file of the meeting lies rejected in `inbox/afvist/` with no newer one
    /// accepted: the minutes wait (SPEC §6).
    pub attendance_rejected: bool,
}

/// Work that is due now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Hold an agenda whose send moment came with no items: nothing is sent, the secretariat
    /// is told, and it goes when released (SPEC §6).
    HoldAgenda {
        /// The meeting.
        meeting: Date,
    },
    /// Render and mail the agenda of a meeting.
    SendAgenda {
        /// The meeting.
        meeting: Date,
        /// It is past its moment (the run was down): the log and status say so.
        late: bool,
    },
    /// Send a supplementary agenda with the items that came after the agenda.
    SendSupplement {
        /// The meeting.
        meeting: Date,
    },
    /// Send a corrected agenda.
    SendCorrection {
        /// The meeting.
        meeting: Date,
    },
    /// Send the minutes (member edition) and publish the public edition.
    SendMinutes {
        /// The meeting.
        meeting: Date,
    },
    /// Send corrected minutes: something they showed changed after they were sent.
    SendMinutesCorrection {
        /// The meeting.
        meeting: Date,
    },
    /// Send the minutes (or their correction) as a draft to those who approve them.
    SendMinutesDraft {
        /// The meeting.
        meeting: Date,
    },
    /// Tell every roster row the meeting was moved or changed, with the invitation updated.
    SendMeetingChange {
        /// The meeting.
        meeting: Date,
    },
    /// Tell every roster row the meeting is cancelled, with a cancelling invitation.
    SendCancellation {
        /// The meeting.
        meeting: Date,
    },
}

impl Job {
    /// The meeting the job is for.
    pub fn meeting(&self) -> Date {
        match self {
            Self::HoldAgenda { meeting }
            | Self::SendAgenda { meeting, .. }
            | Self::SendSupplement { meeting }
            | Self::SendCorrection { meeting }
            | Self::SendMinutes { meeting }
            | Self::SendMinutesCorrection { meeting }
            | Self::SendMinutesDraft { meeting }
            | Self::SendMeetingChange { meeting }
            | Self::SendCancellation { meeting } => *meeting,
        }
    }
}

/// Where a meeting's agenda stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgendaStatus {
    /// Will be sent at this moment.
    Scheduled(Zoned),
    /// Due now (or overdue and the meeting has not started).
    Due,
    /// Sent.
    Sent,
    /// The send moment passed and the meeting has started: it will not be sent.
    Missed,
    /// Nothing to send yet: no items; the moment is still to come.
    Empty(Zoned),
    /// Held: the moment came with no items; it goes when released (SPEC §6).
    Held,
    /// The meeting is cancelled: nothing more is sent for it.
    Cancelled,
}

/// The agenda status of one meeting.
pub fn agenda_status(
    now: &Zoned,
    config: &Config,
    meeting: Date,
    state: MeetingState,
) -> Option<AgendaStatus> {
    let m = config.meeting(meeting)?;
    let due = config.schedule.agenda_due(m);
    let moment_came = *now >= due || state.released;
    Some(if m.cancelled {
        AgendaStatus::Cancelled
    } else if state.agenda_sent {
        AgendaStatus::Sent
    } else if *now >= m.starts_at() {
        AgendaStatus::Missed
    } else if state.held {
        AgendaStatus::Held
    } else if !moment_came && state.items == 0 {
        AgendaStatus::Empty(due)
    } else if !moment_came {
        AgendaStatus::Scheduled(due)
    } else if state.items == 0 {
        AgendaStatus::Held
    } else {
        AgendaStatus::Due
    })
}

/// Everything due at `now`.
pub fn due(
    now: &Zoned,
    config: &Config,
    state: &dyn Fn(Date) -> MeetingState,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    for m in &config.meetings {
        let s = state(m.date);
        if m.cancelled {
            // Told once, if the agenda had told them of it; then nothing more.
            if s.agenda_sent && !s.cancel_sent && *now < m.starts_at() {
                jobs.push(Job::SendCancellation { meeting: m.date });
            }
            continue;
        }
        let status = agenda_status(now, config, m.date, s);
        if status == Some(AgendaStatus::Due) {
            let moment = config.schedule.agenda_due(m);
            let late =
                !s.released && now.timestamp().duration_since(moment.timestamp()) > GRACE;
            jobs.push(Job::SendAgenda { meeting: m.date, late });
        } else if status == Some(AgendaStatus::Held) && !s.held {
            jobs.push(Job::HoldAgenda { meeting: m.date });
        } else if *now >= m.ends_at() {
            // A held meeting: minutes once every item has its decision.
            let ready = config.schedule.minutes_after_decisions
                && s.items > 0
                && s.decided
                && !s.attendance_rejected;
            let next = if !s.minutes_sent {
                Some(Job::SendMinutes { meeting: m.date })
            } else if s.minutes_changed {
                Some(Job::SendMinutesCorrection { meeting: m.date })
            } else {
                None
            };
            // With approval, a draft goes to the approvers first; the minutes (or the
            // correction) once it is approved.
            let waits = config.schedule.minutes_approval && !s.minutes_approved;
            match next.filter(|_| ready) {
                Some(_) if waits && !s.minutes_draft_current => {
                    jobs.push(Job::SendMinutesDraft { meeting: m.date });
                }
                Some(_) if waits => {}
                Some(job) => jobs.push(job),
                None => {}
            }
        } else if s.agenda_sent && *now < m.starts_at() {
            // Nothing is sent once the meeting has started.
            if s.told_changed {
                jobs.push(Job::SendMeetingChange { meeting: m.date });
            }
            if s.new_items > 0 {
                jobs.push(Job::SendSupplement { meeting: m.date });
            }
            if s.changed_items > 0 {
                jobs.push(Job::SendCorrection { meeting: m.date });
            }
        }
    }
    jobs
}

/// The next moment something becomes due after `now`, for the daemon to sleep until.
pub fn next_due(
    now: &Zoned,
    config: &Config,
    state: &dyn Fn(Date) -> MeetingState,
) -> Option<Zoned> {
    config
        .meetings
        .iter()
        .filter(|m| !m.cancelled && !state(m.date).agenda_sent)
        .map(|m| config.schedule.agenda_due(m))
        .filter(|t| t > now)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_now;

    fn config(dates: &[&str], send_time: &str) -> Config {
        let meetings: String = dates
            .iter()
            .map(|d| format!("[[meeting]]\ndate = \"{d}\"\nstarts = \"09:00\"\nends = \"11:30\"\nplace = \"Rådhuset\"\n"))
            .collect();
        let text = format!(
            "[council]\nname = \"KKR Test\"\nslug = \"kkr-test\"\n{meetings}[schedule]\nagenda_days_before = 7\nsend_time = \"{send_time}\"\n[mail]\nfrom = \"a@example.org\"\n"
        );
        Config::parse(&text).unwrap()
    }

    fn with_items(_: Date) -> MeetingState {
        MeetingState { agenda_sent: false, items: 3, ..Default::default() }
    }

    #[test]
    fn corrected_minutes_when_something_they_showed_changed_once_ready() {
        let c = config(&["2027-01-28"], "09:00");
        let after = parse_now("2027-01-29T09:00").unwrap();
        let sent = MeetingState {
            agenda_sent: true,
            items: 3,
            decided: true,
            minutes_sent: true,
            ..Default::default()
        };
        assert!(due(&after, &c, &|_| sent).is_empty());
        let changed = MeetingState { minutes_changed: true, ..sent };
        assert_eq!(
            due(&after, &c, &|_| changed),
            [Job::SendMinutesCorrection { meeting: jiff::civil::date(2027, 1, 28) }]
        );
        let waiting = MeetingState { attendance_rejected: true, ..changed };
        assert!(
            due(&after, &c, &|_| waiting).is_empty(),
            "a rejected attendance file holds it"
        );
    }

    #[test]
    fn minutes_when_held_and_every_item_decided() {
        let c = config(&["2027-01-28"], "09:00");
        let d = jiff::civil::date(2027, 1, 28);
        let undecided =
            |_| MeetingState { agenda_sent: true, items: 4, ..Default::default() };
        let decided = |_| MeetingState {
            agenda_sent: true,
            items: 4,
            decided: true,
            ..Default::default()
        };
        let sent = |_| MeetingState {
            agenda_sent: true,
            items: 4,
            decided: true,
            minutes_sent: true,
            ..Default::default()
        };
        assert!(
            due(&parse_now("2027-01-28T11:29").unwrap(), &c, &decided).is_empty(),
            "not held yet"
        );
        assert!(due(&parse_now("2027-01-28T11:30").unwrap(), &c, &undecided).is_empty());
        assert_eq!(
            due(&parse_now("2027-01-28T11:30").unwrap(), &c, &decided),
            [Job::SendMinutes { meeting: d }]
        );
        assert!(due(&parse_now("2027-02-01T11:30").unwrap(), &c, &sent).is_empty());
    }

    #[test]
    fn late_and_changed_items_after_sending_until_the_meeting_starts() {
        let c = config(&["2027-01-28"], "09:00");
        let d = jiff::civil::date(2027, 1, 28);
        let state = |_| MeetingState {
            agenda_sent: true,
            items: 4,
            new_items: 1,
            changed_items: 1,
            ..Default::default()
        };
        let jobs = due(&parse_now("2027-01-25T10:00").unwrap(), &c, &state);
        assert_eq!(
            jobs,
            [Job::SendSupplement { meeting: d }, Job::SendCorrection { meeting: d }]
        );
        assert!(due(&parse_now("2027-01-28T09:00").unwrap(), &c, &state).is_empty());
    }

    #[test]
    fn nothing_one_minute_before_then_due_then_nothing_once_sent() {
        let c = config(&["2027-01-28"], "09:00");
        assert!(due(&parse_now("2027-01-21T08:59").unwrap(), &c, &with_items).is_empty());
        let jobs = due(&parse_now("2027-01-21T09:00").unwrap(), &c, &with_items);
        assert_eq!(
            jobs,
            [Job::SendAgenda { meeting: jiff::civil::date(2027, 1, 28), late: false }]
        );
        let sent = |_| MeetingState { agenda_sent: true, items: 3, ..Default::default() };
        assert!(due(&parse_now("2027-01-21T09:01").unwrap(), &c, &sent).is_empty());
    }

    #[test]
    fn spring_switch_agenda_in_cet_week_before() {
        // Meeting 2 April 2026 (CEST); agenda 26 March 09:00 CET, before the switch on 29 March.
        let c = config(&["2026-04-02"], "09:00");
        let due_at = c.schedule.agenda_due(&c.meetings[0]);
        assert_eq!(due_at.timestamp().to_string(), "2026-03-26T08:00:00Z");
        assert!(due(&parse_now("2026-03-26T08:59").unwrap(), &c, &with_items).is_empty());
        assert_eq!(
            due(&parse_now("2026-03-26T09:00").unwrap(), &c, &with_items).len(),
            1
        );
    }

    #[test]
    fn autumn_switch_agenda_in_cest_meeting_in_cet() {
        // Meeting 29 October 2026 (CET); agenda 22 October 09:00 CEST.
        let c = config(&["2026-10-29"], "09:00");
        let due_at = c.schedule.agenda_due(&c.meetings[0]);
        assert_eq!(due_at.timestamp().to_string(), "2026-10-22T07:00:00Z");
        assert_eq!(
            c.meetings[0].starts_at().timestamp().to_string(),
            "2026-10-29T08:00:00Z"
        );
    }

    #[test]
    fn send_time_in_the_missing_hour_is_sent_once_after_the_gap() {
        // Meeting 5 April 2026; agenda 29 March 02:30, which does not exist: 03:00 CEST.
        let c = config(&["2026-04-05"], "02:30");
        let due_at = c.schedule.agenda_due(&c.meetings[0]);
        assert_eq!(due_at.datetime().to_string(), "2026-03-29T03:00:00");
        assert!(due(&parse_now("2026-03-29T01:59").unwrap(), &c, &with_items).is_empty());
        assert_eq!(
            due(&parse_now("2026-03-29T03:00").unwrap(), &c, &with_items).len(),
            1
        );
    }

    #[test]
    fn send_time_in_the_repeated_hour_uses_the_first() {
        // Meeting 1 November 2026; agenda 25 October 02:30, which occurs twice.
        let c = config(&["2026-11-01"], "02:30");
        let due_at = c.schedule.agenda_due(&c.meetings[0]);
        assert_eq!(due_at.timestamp().to_string(), "2026-10-25T00:30:00Z");
    }

    #[test]
    fn late_when_down_and_missed_once_started() {
        let c = config(&["2027-01-28"], "09:00");
        let jobs = due(&parse_now("2027-01-25T12:00").unwrap(), &c, &with_items);
        assert_eq!(
            jobs,
            [Job::SendAgenda { meeting: jiff::civil::date(2027, 1, 28), late: true }]
        );
        let now = parse_now("2027-01-28T09:00").unwrap();
        assert!(due(&now, &c, &with_items).is_empty());
        assert_eq!(
            agenda_status(&now, &c, c.meetings[0].date, with_items(c.meetings[0].date)),
            Some(AgendaStatus::Missed)
        );
    }

    #[test]
    fn no_items_at_the_moment_holds_the_agenda_until_released() {
        let c = config(&["2027-01-28"], "09:00");
        let d = jiff::civil::date(2027, 1, 28);
        let at = parse_now("2027-01-21T09:00").unwrap();
        let empty = |_| MeetingState::default();
        assert_eq!(due(&at, &c, &empty), [Job::HoldAgenda { meeting: d }]);
        // Held: a later item is no reason to send, and not late.
        let held = |_| MeetingState { items: 1, held: true, ..Default::default() };
        let later = parse_now("2027-01-23T10:00").unwrap();
        assert!(due(&later, &c, &held).is_empty());
        assert_eq!(agenda_status(&later, &c, d, held(d)), Some(AgendaStatus::Held));
        // Released: it goes now, on time.
        let released =
            |_| MeetingState { items: 1, released: true, ..Default::default() };
        assert_eq!(
            due(&later, &c, &released),
            [Job::SendAgenda { meeting: d, late: false }]
        );
        // Released with no items: still nothing.
        let none = |_| MeetingState { released: true, ..Default::default() };
        assert_eq!(due(&later, &c, &none), [Job::HoldAgenda { meeting: d }]);
        // Once the meeting has started nothing is held or sent.
        assert!(due(&parse_now("2027-01-28T09:00").unwrap(), &c, &empty).is_empty());
    }

    #[test]
    fn next_due_is_the_earliest_unsent_agenda() {
        let c = config(&["2027-01-28", "2027-03-18"], "09:00");
        let next =
            next_due(&parse_now("2027-01-01T00:00").unwrap(), &c, &with_items).unwrap();
        assert_eq!(next.datetime().to_string(), "2027-01-21T09:00:00");
    }
}
