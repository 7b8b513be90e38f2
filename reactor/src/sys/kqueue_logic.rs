//! The kqueue backend's decisions, apart from the `kevent` calls that carry
//! them out: which changes move a registration from one interest to
//! another, what a kernel event means, what a change's receipt says, and
//! what to undo when only some changes took effect.
//!
//! Plain values in and out (no `nix` kqueue types, which exist only where
//! kqueue does), so this module compiles everywhere and its tests run on
//! Linux, where the backend itself cannot.

use std::time::Duration;

use crate::event::{ERROR, HANGUP, READABLE, WRITABLE};
use crate::Interest;

/// The two filters a registration uses, one per direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Filter {
    /// `EVFILT_READ`.
    Read,
    /// `EVFILT_WRITE`.
    Write,
}

impl Filter {
    /// Where this filter's change (and its receipt) sits in [`Changes`].
    pub(crate) fn index(self) -> usize {
        match self {
            Filter::Read => 0,
            Filter::Write => 1,
        }
    }
}

/// What one change asks of a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// `EV_ADD`: install the filter or, if it is installed already, give it
    /// the new token (kqueue keeps the user data per filter).
    Add,
    /// `EV_DELETE`: remove the filter.
    Delete,
}

/// One entry of a `kevent` change list, without the descriptor and token
/// (the same for every change of one update).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) filter: Filter,
    pub(crate) action: Action,
}

/// At most one change per filter, at [`Filter::index`]: READ's, then WRITE's.
pub(crate) type Changes = [Option<Change>; 2];

/// Each change's result from its receipt, at the same index as the change:
/// `None` when no receipt came back for it, else `Err(errno)` or `Ok`.
pub(crate) type Results = [Option<Result<(), i32>>; 2];

/// The changes that move a registration from interest `old` to `new`.
///
/// A filter kept on is added again, because EV_ADD is also how its token
/// changes ([`crate::Selector::modify`] may give a new one). A filter off
/// before and after is left alone: it is not installed.
pub(crate) fn changes(old: Interest, new: Interest) -> Changes {
    [
        change(Filter::Read, old.is_readable(), new.is_readable()),
        change(Filter::Write, old.is_writable(), new.is_writable()),
    ]
}

fn change(filter: Filter, was_on: bool, will_be_on: bool) -> Option<Change> {
    let action = match (was_on, will_be_on) {
        (_, true) => Action::Add,
        (true, false) => Action::Delete,
        (false, false) => return None,
    };
    Some(Change { filter, action })
}

/// The [`Event`](crate::Event) flags of one kernel event record: its
/// `filter` (`None` for a filter we never install), whether `EV_EOF` and
/// `EV_ERROR` are set in its flags, and its `fflags`.
#[inline]
pub(crate) fn readiness(filter: Option<Filter>, eof: bool, error: bool, fflags: u32) -> u8 {
    let mut flags = match filter {
        Some(Filter::Read) => READABLE,
        Some(Filter::Write) => WRITABLE,
        None => 0,
    };
    if eof {
        flags |= HANGUP;
        // A socket error (ECONNREFUSED, ECONNRESET) comes as EV_EOF with the
        // errno in fflags; EV_ERROR itself only appears on change receipts.
        if fflags != 0 {
            flags |= ERROR;
        }
    }
    if error {
        flags |= ERROR;
    }
    flags
}

/// What the receipt of one change says: `EV_RECEIPT` returns every change
/// with `EV_ERROR` set and its errno in `data`, 0 for success.
///
/// Two errors mean the change did what it was for: EPIPE on an add (macOS,
/// adding WRITE to a socket or pipe whose peer is gone: the filter still
/// reports, and the read side reports the hang-up) and ENOENT on a delete
/// (the filter is not installed, which is what a delete wants).
pub(crate) fn receipt_result(action: Action, error_flag: bool, data: i64) -> Result<(), i32> {
    if !error_flag || data == 0 {
        return Ok(());
    }
    // An errno that does not fit is no errno we could name.
    let errno = i32::try_from(data).unwrap_or(libc::EIO);
    match (action, errno) {
        (Action::Add, libc::EPIPE) | (Action::Delete, libc::ENOENT) => Ok(()),
        _ => Err(errno),
    }
}

/// What one update comes to once its receipts are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Every change took effect: the kernel holds the new interest.
    Done,
    /// A change failed with `errno` (the first failure, in change order).
    /// The caller keeps believing the old interest, so `undo` lists the
    /// reverse of each change that took effect, to bring the kernel back to
    /// it (empty when nothing needs undoing).
    Failed { errno: i32, undo: Changes },
}

/// Compare each change with its result, and decide what to undo.
///
/// A change without a receipt counts as taken effect: undoing one that did
/// not is harmless (re-adding an installed filter, deleting a missing one),
/// leaving one that did is not.
pub(crate) fn settle(old: Interest, changes: Changes, results: Results) -> Settled {
    let mut errno = None;
    let mut undo = [None; 2];
    for (i, change) in changes.into_iter().enumerate() {
        let Some(change) = change else { continue };
        match results[i] {
            Some(Err(e)) => {
                errno.get_or_insert(e);
            }
            Some(Ok(())) | None => undo[i] = reverse(old, change),
        }
    }
    match errno {
        None => Settled::Done,
        Some(errno) => Settled::Failed { errno, undo },
    }
}

/// The change that restores what `change` altered, if it altered the
/// interest at all.
fn reverse(old: Interest, change: Change) -> Option<Change> {
    let was_on = match change.filter {
        Filter::Read => old.is_readable(),
        Filter::Write => old.is_writable(),
    };
    let action = match (change.action, was_on) {
        (Action::Add, false) => Action::Delete,
        (Action::Delete, _) => Action::Add,
        // Re-adding a filter that was on changed at most its token: the old
        // one is not known here, and the interest is what it was.
        (Action::Add, true) => return None,
    };
    Some(Change {
        filter: change.filter,
        action,
    })
}

/// After a failed update's `undo` came back with `results`: `None` if the
/// kernel holds `old` again, else the interest it holds instead (a filter
/// whose undo failed stays as the update left it, that is as in `new`).
pub(crate) fn after_undo(
    old: Interest,
    new: Interest,
    undo: Changes,
    results: Results,
) -> Option<Interest> {
    let stuck = |i: usize| undo[i].is_some() && results[i] != Some(Ok(()));
    if !stuck(0) && !stuck(1) {
        return None;
    }
    let from = |i: usize| if stuck(i) { new } else { old };
    let read = if from(0).is_readable() {
        Interest::READ
    } else {
        Interest::NONE
    };
    let write = if from(1).is_writable() {
        Interest::WRITE
    } else {
        Interest::NONE
    };
    Some(read | write)
}

/// The longest wait one `kevent` call is given, as the epoll backend's
/// (`i32::MAX` milliseconds, about 24.8 days). `TimeSpec::from_duration`
/// casts the seconds to `time_t`, so `Duration::MAX` would turn negative and
/// `kevent` would fail with EINVAL; a wait cut short is only a wake-up
/// without events, which every caller of `select` handles already.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_millis(i32::MAX as u64);

/// `timeout` as one `kevent` call may wait (`None`: indefinitely).
pub(crate) fn wait_limit(timeout: Option<Duration>) -> Option<Duration> {
    timeout.map(|t| t.min(LONGEST_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Filter::{Read, Write};
    use Interest as I;

    const fn add(filter: Filter) -> Option<Change> {
        Some(Change {
            filter,
            action: Action::Add,
        })
    }

    const fn delete(filter: Filter) -> Option<Change> {
        Some(Change {
            filter,
            action: Action::Delete,
        })
    }

    #[test]
    fn changes_touch_only_filters_on_before_or_after() {
        let cases = [
            (I::NONE, I::NONE, [None, None]),
            (I::NONE, I::READ, [add(Read), None]),
            (I::NONE, I::READ_WRITE, [add(Read), add(Write)]),
            (I::READ, I::NONE, [delete(Read), None]),
            (I::READ_WRITE, I::NONE, [delete(Read), delete(Write)]),
            (I::READ, I::WRITE, [delete(Read), add(Write)]),
            (I::WRITE, I::READ, [add(Read), delete(Write)]),
            (I::READ_WRITE, I::READ, [add(Read), delete(Write)]),
            (I::READ, I::READ_WRITE, [add(Read), add(Write)]),
            // Unchanged: added again, which is how a new token gets in.
            (I::READ, I::READ, [add(Read), None]),
        ];
        for (old, new, want) in cases {
            assert_eq!(changes(old, new), want, "{old} -> {new}");
        }
    }

    #[test]
    fn records_become_readiness_flags() {
        assert_eq!(readiness(Some(Read), false, false, 0), READABLE);
        assert_eq!(readiness(Some(Write), false, false, 0), WRITABLE);
        // Peer closed cleanly: EOF without an errno.
        assert_eq!(readiness(Some(Read), true, false, 0), READABLE | HANGUP);
        // Reset or refused: EOF with the errno in fflags.
        let reset = libc::ECONNRESET as u32;
        assert_eq!(
            readiness(Some(Read), true, false, reset),
            READABLE | HANGUP | ERROR
        );
        assert_eq!(
            readiness(Some(Write), true, false, libc::ECONNREFUSED as u32),
            WRITABLE | HANGUP | ERROR
        );
        // fflags mean nothing without EOF.
        assert_eq!(readiness(Some(Read), false, false, 7), READABLE);
        assert_eq!(readiness(Some(Read), false, true, 0), READABLE | ERROR);
        assert_eq!(readiness(None, false, false, 0), 0);
        assert_eq!(readiness(None, true, true, 1), HANGUP | ERROR);
    }

    #[test]
    fn receipts_become_results() {
        assert_eq!(receipt_result(Action::Add, true, 0), Ok(()));
        assert_eq!(receipt_result(Action::Delete, true, 0), Ok(()));
        let ebadf = i64::from(libc::EBADF);
        assert_eq!(receipt_result(Action::Add, true, ebadf), Err(libc::EBADF));
        assert_eq!(
            receipt_result(Action::Delete, true, ebadf),
            Err(libc::EBADF)
        );
        // Each direction's harmless error, and only for that direction.
        let epipe = i64::from(libc::EPIPE);
        let enoent = i64::from(libc::ENOENT);
        assert_eq!(receipt_result(Action::Add, true, epipe), Ok(()));
        assert_eq!(receipt_result(Action::Delete, true, enoent), Ok(()));
        assert_eq!(receipt_result(Action::Add, true, enoent), Err(libc::ENOENT));
        assert_eq!(
            receipt_result(Action::Delete, true, epipe),
            Err(libc::EPIPE)
        );
        // Without EV_ERROR, `data` is no errno.
        assert_eq!(receipt_result(Action::Add, false, ebadf), Ok(()));
        assert_eq!(receipt_result(Action::Add, true, i64::MAX), Err(libc::EIO));
    }

    #[test]
    fn an_update_whose_changes_all_took_effect_is_done() {
        let ok = Some(Ok(()));
        let c = changes(I::READ, I::WRITE);
        assert_eq!(settle(I::READ, c, [ok, ok]), Settled::Done);
        assert_eq!(
            settle(I::NONE, changes(I::NONE, I::NONE), [None, None]),
            Settled::Done
        );
    }

    #[test]
    fn a_change_that_took_effect_beside_one_that_failed_is_undone() {
        let ok = Some(Ok(()));
        let failed = Some(Err(libc::ENOMEM));
        // READ -> WRITE: READ deleted, WRITE refused: READ goes back.
        assert_eq!(
            settle(I::READ, changes(I::READ, I::WRITE), [ok, failed]),
            Settled::Failed {
                errno: libc::ENOMEM,
                undo: [add(Read), None],
            }
        );
        // A registration READ|WRITE on a descriptor that takes READ only.
        assert_eq!(
            settle(I::NONE, changes(I::NONE, I::READ_WRITE), [ok, failed]),
            Settled::Failed {
                errno: libc::ENOMEM,
                undo: [delete(Read), None],
            }
        );
        // WRITE -> READ: the add failed, the delete of WRITE is undone.
        assert_eq!(
            settle(I::WRITE, changes(I::WRITE, I::READ), [failed, ok]),
            Settled::Failed {
                errno: libc::ENOMEM,
                undo: [None, add(Write)],
            }
        );
    }

    #[test]
    fn a_filter_kept_on_needs_no_undo() {
        let ok = Some(Ok(()));
        let failed = Some(Err(libc::EBADF));
        // READ|WRITE -> READ: READ re-added (same interest), WRITE's delete
        // failed: the kernel still holds READ|WRITE, as the caller believes.
        assert_eq!(
            settle(I::READ_WRITE, changes(I::READ_WRITE, I::READ), [ok, failed]),
            Settled::Failed {
                errno: libc::EBADF,
                undo: [None, None],
            }
        );
    }

    #[test]
    fn when_every_change_failed_the_first_error_is_reported_and_nothing_undone() {
        let c = changes(I::READ, I::WRITE);
        assert_eq!(
            settle(
                I::READ,
                c,
                [Some(Err(libc::EBADF)), Some(Err(libc::ENOMEM))]
            ),
            Settled::Failed {
                errno: libc::EBADF,
                undo: [None, None],
            }
        );
    }

    #[test]
    fn a_change_without_a_receipt_is_undone_to_be_safe() {
        let c = changes(I::NONE, I::READ_WRITE);
        assert_eq!(
            settle(I::NONE, c, [None, Some(Err(libc::EINVAL))]),
            Settled::Failed {
                errno: libc::EINVAL,
                undo: [delete(Read), None],
            }
        );
    }

    #[test]
    fn an_undo_that_worked_leaves_the_old_interest() {
        let undo = [add(Read), None];
        assert_eq!(
            after_undo(I::READ, I::WRITE, undo, [Some(Ok(())), None]),
            None
        );
        assert_eq!(
            after_undo(I::READ, I::READ, [None, None], [None, None]),
            None
        );
    }

    #[test]
    fn an_undo_that_failed_says_which_interest_is_in_force() {
        // READ -> WRITE, WRITE failed, READ's re-add failed: nothing is on.
        let undo = [add(Read), None];
        assert_eq!(
            after_undo(I::READ, I::WRITE, undo, [Some(Err(libc::ENOMEM)), None]),
            Some(I::NONE)
        );
        // NONE -> READ|WRITE, WRITE failed, READ could not be deleted (or
        // no receipt says it was): READ is on.
        let undo = [delete(Read), None];
        assert_eq!(
            after_undo(I::NONE, I::READ_WRITE, undo, [Some(Err(libc::EBADF)), None]),
            Some(I::READ)
        );
        assert_eq!(
            after_undo(I::NONE, I::READ_WRITE, undo, [None, None]),
            Some(I::READ)
        );
        // WRITE -> READ, READ's add failed, and so did WRITE's re-add.
        let undo = [None, add(Write)];
        assert_eq!(
            after_undo(I::WRITE, I::READ, undo, [None, Some(Err(libc::ENOMEM))]),
            Some(I::NONE)
        );
    }

    #[test]
    fn huge_timeouts_are_clamped_small_ones_kept() {
        assert_eq!(wait_limit(None), None);
        assert_eq!(wait_limit(Some(Duration::ZERO)), Some(Duration::ZERO));
        let short = Duration::from_micros(500);
        assert_eq!(wait_limit(Some(short)), Some(short));
        assert_eq!(wait_limit(Some(Duration::MAX)), Some(LONGEST_WAIT));
        assert_eq!(wait_limit(Some(LONGEST_WAIT)), Some(LONGEST_WAIT));
        // The clamp's seconds fit even a 32-bit time_t.
        assert!(i32::try_from(LONGEST_WAIT.as_secs()).is_ok());
    }
}
